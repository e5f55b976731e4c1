/**
 * The admin HTTP endpoint (node:http only): `GET /healthz`, `GET /metrics`, plus routes added by
 * later features. It binds to loopback by default and refuses a non-loopback address unless
 * `auth` (HTTP basic auth on every route) or `allowRemote: true` is set.
 *
 * Failure semantics: `start()` rejects with GatewayError `GW_ERR_CONFIG` for a bad or refused
 * address or when the port cannot be bound (EADDRINUSE, EACCES); a throwing handler answers 500
 * and is logged, it never takes the gateway down.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { GatewayError, type Logger } from '../core/index.js'
import type { GatewayMetrics } from '../telemetry/metrics.js'
import {
  AdminHttpError, readBody, json,
  type AdminHandler, type AdminRequest, type AdminResponse, type AdminRoutes, type HttpMethod,
} from './admin-http.js'
import type { HealthReport } from './health.js'
import { isLoopbackHost, parseListen } from './listen-address.js'

export interface AdminServerOptions {
  /** `host:port`; port 0 picks a free port (see `start()`). @default '127.0.0.1:9464' */
  listen?: string
  /** Permit a non-loopback host. Without it such an address is refused at start. @default false */
  allowRemote?: boolean
  metrics: Pick<GatewayMetrics, 'render' | 'contentType'>
  /** Called per `/healthz` request; if it throws, the answer is 503. */
  health: () => HealthReport
  log: Logger
  /** Extra routes by exact path; may not replace `/healthz` or `/metrics`. */
  routes?: AdminRoutes
  /**
   * HTTP basic auth (RFC 7617) required on every route, `/healthz` and `/metrics` included; a
   * missing or wrong `Authorization` answers 401. Permits a non-loopback address. @default none
   */
  auth?: { username: string; password: string }
}

// Bounds for slow or stuck clients, so the endpoint cannot pin sockets and memory.
const HEADERS_TIMEOUT_MS = 5_000
const REQUEST_TIMEOUT_MS = 10_000
const STOP_GRACE_MS = 2_000

export class AdminServer {
  private server: http.Server | undefined
  private readonly routes: AdminRoutes

  /** Throws TypeError if `routes` tries to replace a built-in route (a programming error). */
  constructor(private readonly opts: AdminServerOptions) {
    const builtIn: AdminRoutes = {
      '/healthz': { GET: () => this.healthz() },
      '/metrics': { GET: () => this.metrics() },
    }
    for (const path of Object.keys(opts.routes ?? {})) {
      if (path in builtIn) throw new TypeError(`admin route "${path}" is built in and cannot be replaced`)
    }
    this.routes = { ...builtIn, ...opts.routes }
  }

  /**
   * Binds and starts serving; resolves with the bound port (the real one when `listen` used 0).
   * Rejects with GatewayError `GW_ERR_CONFIG` (logged) for a malformed or refused address or a
   * failed bind. Calling it again while running resolves with the same port.
   */
  async start(): Promise<{ port: number }> {
    if (this.server) return { port: (this.server.address() as AddressInfo).port }
    const listen = this.opts.listen ?? '127.0.0.1:9464'
    const { host, port } = this.vetAddress(listen)
    const server = http.createServer({ headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS }, (req, res) => {
      void this.handle(req, res)
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, host, () => {
        server.off('error', reject)
        resolve()
      })
    }).catch((err: NodeJS.ErrnoException) => {
      this.opts.log.error({ err, listen }, 'admin endpoint could not listen')
      throw new GatewayError('GW_ERR_CONFIG', `admin endpoint cannot listen on ${listen} (${err.code ?? err.message})`, { cause: err })
    })
    this.server = server
    const bound = (server.address() as AddressInfo).port
    this.opts.log.info({ host, port: bound }, 'admin endpoint listening')
    return { port: bound }
  }

  /**
   * Stops accepting connections and resolves once the server is closed. Idle keep-alive sockets
   * are closed at once; requests still running get STOP_GRACE_MS before their sockets are cut.
   * Never rejects; a no-op when not started.
   */
  async stop(): Promise<void> {
    const server = this.server
    if (!server) return
    this.server = undefined
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    server.closeIdleConnections()
    const cut = setTimeout(() => server.closeAllConnections(), STOP_GRACE_MS)
    cut.unref()
    await closed
    clearTimeout(cut)
  }

  private vetAddress(listen: string): { host: string; port: number } {
    let addr: { host: string; port: number }
    try {
      addr = parseListen(listen)
    } catch (err) {
      this.opts.log.error({ err, listen }, 'admin endpoint not started: invalid listen address')
      throw err
    }
    if (!isLoopbackHost(addr.host) && !this.opts.auth) {
      if (!this.opts.allowRemote) {
        const message =
          `admin endpoint refuses to listen on non-loopback address ${listen}: it has no authentication; ` +
          'use 127.0.0.1 or [::1], set admin.password (basic auth), or set allowRemote: true behind a firewall or proxy'
        this.opts.log.error({ listen, code: 'GW_ERR_CONFIG' }, message)
        throw new GatewayError('GW_ERR_CONFIG', message)
      }
      this.opts.log.warn({ listen }, 'admin endpoint listens on a non-loopback address without authentication')
    }
    return addr
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const started = performance.now()
    let response: AdminResponse
    try {
      response = await this.dispatch(req)
    } catch (err) {
      if (err instanceof AdminHttpError) {
        response = json(err.status, { error: err.code, message: err.message })
      } else {
        // The message could quote internals (paths, addresses); the journal gets it, the client not.
        this.opts.log.error({ err, method: req.method, path: req.url }, 'admin request failed')
        response = json(500, { error: 'internal_error' })
      }
    }
    try {
      write(res, response)
    } catch (err) {
      // e.g. a handler returned an invalid header value; the request fails, the process does not.
      this.opts.log.error({ err, method: req.method, path: req.url }, 'admin response could not be written')
      res.destroy()
      return
    }
    this.opts.log.debug(
      { method: req.method, path: req.url, status: response.status, ms: Math.round(performance.now() - started) },
      'admin request',
    )
  }

  private async dispatch(req: http.IncomingMessage): Promise<AdminResponse> {
    const method = (req.method ?? 'GET').toUpperCase()
    let url: URL
    try {
      // Prefixing (not resolving against a base) keeps "//host/x" a path instead of a new authority.
      url = new URL(`http://admin${req.url ?? '/'}`)
    } catch {
      throw new AdminHttpError(400, 'bad_request', 'malformed request target')
    }
    if (this.opts.auth && !basicAuthOk(req.headers.authorization, this.opts.auth)) {
      return json(401, { error: 'unauthorized' }, { 'www-authenticate': 'Basic realm="edge-gateway", charset="UTF-8"' })
    }
    const route = this.routes[url.pathname]
    if (!route) return json(404, { error: 'not_found', path: url.pathname })
    const handler: AdminHandler | undefined = route[(method === 'HEAD' ? 'GET' : method) as HttpMethod]
    if (!handler) {
      const allow = Object.keys(route).flatMap((m) => (m === 'GET' ? ['GET', 'HEAD'] : [m]))
      return json(405, { error: 'method_not_allowed', allow }, { allow: allow.join(', ') })
    }
    const request: AdminRequest = { method, url, headers: req.headers, body: (max) => readBody(req, max) }
    return handler(request)
  }

  private healthz(): AdminResponse {
    let report: HealthReport
    try {
      report = this.opts.health()
    } catch (err) {
      this.opts.log.error({ err }, 'health check failed')
      return json(503, { status: 'unhealthy', healthy: false, reasons: ['health check failed'], warnings: [] })
    }
    return json(report.healthy ? 200 : 503, report)
  }

  private async metrics(): Promise<AdminResponse> {
    const text = await this.opts.metrics.render()
    return { status: 200, headers: { 'content-type': this.opts.metrics.contentType }, body: text }
  }
}

/** Compares user and password in constant time (digests, so lengths do not leak either). */
function basicAuthOk(header: string | undefined, auth: { username: string; password: string }): boolean {
  const m = /^Basic +([A-Za-z0-9+/]+=*) *$/i.exec(header ?? '')
  if (!m) return false
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 0) return false
  const digest = (s: string): Buffer => createHash('sha256').update(s).digest()
  const userOk = timingSafeEqual(digest(decoded.slice(0, colon)), digest(auth.username))
  const passOk = timingSafeEqual(digest(decoded.slice(colon + 1)), digest(auth.password))
  return userOk && passOk
}

function write(res: http.ServerResponse, r: AdminResponse): void {
  const raw = typeof r.body === 'string' || Buffer.isBuffer(r.body)
  const body = r.body === undefined ? '' : raw ? (r.body as string | Buffer) : JSON.stringify(r.body)
  const headers: Record<string, string | number> = {
    'cache-control': 'no-store',
    ...(raw || r.body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' }),
    ...r.headers,
    'content-length': Buffer.byteLength(body),
  }
  res.writeHead(r.status, headers)
  res.end(body)
}
