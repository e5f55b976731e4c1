/**
 * The small request/response model admin routes are written against: a handler gets a parsed
 * request and returns a response value, and the server does the writing, error mapping and
 * logging in one place. Later routes (status JSON, status page, queue operations) plug in here.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http'

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

export interface AdminRequest {
  /** Upper-case; HEAD requests reach the GET handler (Node discards the body). */
  method: string
  url: URL
  headers: IncomingHttpHeaders
  /** Reads the whole body. Rejects with AdminHttpError 413 above `maxBytes` (@default 1 MiB). */
  body(maxBytes?: number): Promise<Buffer>
}

export interface AdminResponse {
  status: number
  headers?: Record<string, string>
  /** A string or Buffer is sent as is (set `content-type`); anything else is sent as JSON. */
  body?: unknown
}

/** A route handler. It may throw AdminHttpError for a chosen status; anything else becomes 500. */
export type AdminHandler = (req: AdminRequest) => AdminResponse | Promise<AdminResponse>

/** Extra routes by exact path, then method: `{ '/status': { GET: handler } }`. */
export type AdminRoutes = Record<string, Partial<Record<HttpMethod, AdminHandler>>>

/** Thrown by handlers (or body reading) to answer `status` with `{ error: code, message }`. */
export class AdminHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
    this.name = 'AdminHttpError'
  }
}

/** Reads a request body with a size cap; the cap protects the gateway's fixed memory budget. */
export function readBody(req: IncomingMessage, maxBytes = 1024 * 1024): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      // Keep draining (not destroying) so the 413 can still be written; the server's
      // requestTimeout ends a client that streams forever.
      if (size > maxBytes) {
        chunks.length = 0
        reject(new AdminHttpError(413, 'payload_too_large', `body exceeds ${maxBytes} bytes`))
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

/** JSON response helper. */
export function json(status: number, body: unknown, headers?: Record<string, string>): AdminResponse {
  return { status, body, headers }
}
