/**
 * Request checks shared by the admin API and the status page.
 *
 * - Host check (every route here, reads too): without authentication, a request is served only
 *   when its `Host` names loopback or the configured listen host. A DNS-rebinding page (evil.example
 *   resolving to 127.0.0.1) sends `Host: evil.example` and is refused, so it can neither read device
 *   data nor call queue operations. With basic auth on, the browser has no credentials for the
 *   attacker's origin, so the check is not needed (and remote clients may use any name for the Pi).
 * - Mutating routes (POST) also need `X-Edge-Gateway: 1` or `Content-Type: application/json`:
 *   neither can be sent by a cross-site HTML form, and a cross-origin fetch with them needs a CORS
 *   preflight this server never approves. This matters when basic auth is on, because a browser
 *   attaches remembered credentials to cross-site form posts.
 */
import type { GatewayError } from '../../core/errors.js'
import { AdminHttpError, type AdminHandler, type AdminRequest } from '../admin-http.js'
import { isLoopbackHost } from '../listen-address.js'

export interface AccessPolicy {
  /** Configured listen host (`admin.host`), e.g. `127.0.0.1`, `::1`, `pi.local`. */
  host: string
  /** Basic auth is enforced by the server (admin.password set). */
  authEnabled: boolean
}

/** The header the CLI sends on mutating requests. */
export const CSRF_HEADER = 'x-edge-gateway'

/** `Host` header → lower-case host name without port or IPv6 brackets; undefined when malformed. */
export function hostNameOf(hostHeader: string | undefined): string | undefined {
  if (!hostHeader) return undefined
  const h = hostHeader.trim().toLowerCase()
  const v6 = /^\[([0-9a-f:.]+)\](?::\d{1,5})?$/.exec(h)
  if (v6) return v6[1]
  const named = /^([^:[\]\s]+)(?::\d{1,5})?$/.exec(h)
  return named ? named[1] : undefined
}

/** Throws AdminHttpError 403 unless the policy allows the request's Host. */
export function assertHostAllowed(req: AdminRequest, policy: AccessPolicy): void {
  if (policy.authEnabled) return
  const name = hostNameOf(req.headers.host)
  if (name !== undefined && (isLoopbackHost(name) || name === policy.host.toLowerCase())) return
  throw new AdminHttpError(
    403,
    'forbidden_host',
    `Host "${req.headers.host ?? ''}" is not this admin endpoint; connect to ${policy.host} or a loopback address`,
  )
}

/** Throws AdminHttpError 403 unless the request carries the CSRF header or a JSON content type. */
export function assertNotCrossSite(req: AdminRequest): void {
  if (req.headers[CSRF_HEADER] === '1') return
  const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
  if (type === 'application/json') return
  throw new AdminHttpError(
    403,
    'csrf_header_missing',
    `mutating admin requests need the header "X-Edge-Gateway: 1" or "Content-Type: application/json"`,
  )
}

/**
 * Wraps a handler with the Host check, and for `mutating` routes the cross-site check. A store
 * that is closing (gateway shutdown) answers 503 `stopping` instead of a logged 500.
 */
export function guarded(policy: AccessPolicy, handler: AdminHandler, opts: { mutating?: boolean } = {}): AdminHandler {
  return async (req) => {
    assertHostAllowed(req, policy)
    if (opts.mutating) assertNotCrossSite(req)
    try {
      return await handler(req)
    } catch (err) {
      if ((err as GatewayError).code === 'GW_ERR_STORE_CLOSED') throw new AdminHttpError(503, 'stopping', 'the gateway is stopping')
      throw err
    }
  }
}

/** `?limit=` as an integer in [1, max]; `fallback` when absent. Throws 400 otherwise. */
export function limitParam(req: AdminRequest, fallback: number, max: number): number {
  const raw = req.url.searchParams.get('limit')
  if (raw === null || raw === '') return fallback
  const n = Number(raw)
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < 1 || n > max) {
    throw new AdminHttpError(400, 'bad_limit', `limit must be a whole number from 1 to ${max}`)
  }
  return n
}

/**
 * `?uplink=` checked against the configured uplinks. Absent: undefined when `optional`, else 400.
 * Unknown: 404 naming the known ones.
 */
export function uplinkParam(req: AdminRequest, known: readonly string[], optional: boolean): string | undefined {
  const id = req.url.searchParams.get('uplink')
  if (id === null || id === '') {
    if (optional) return undefined
    throw new AdminHttpError(400, 'uplink_required', `uplink is required (one of: ${known.join(', ')})`)
  }
  if (!known.includes(id)) {
    throw new AdminHttpError(404, 'unknown_uplink', `no uplink "${id}" (configured: ${known.join(', ')})`)
  }
  return id
}
