/**
 * How the operator commands (`status`, `queue`, `drain`) reach the running daemon: its admin HTTP
 * endpoint, found from `--admin URL`, else from `--config FILE` (`admin.listen` and credentials),
 * else http://127.0.0.1:8080.
 *
 * Failure semantics: every problem talking to the daemon becomes an AdminCliError whose message
 * says what to do and whose exit code follows sysexits.h: 69 EX_UNAVAILABLE (no daemon answering,
 * or it failed), 76 EX_PROTOCOL (the answer is not the admin API), 77 EX_NOPERM (credentials or
 * Host refused), 64 EX_USAGE (the daemon refused a parameter, e.g. an unknown uplink). A bad
 * `--config` file throws ConfigError (78, printed by `main`).
 */
import http from 'node:http'
import https from 'node:https'
import type { Command } from 'commander'
import { ConfigError, adminSectionSchema, readConfigSection, substituteEnv } from '../config/index.js'
import { place } from '../config/format-issues.js'
import type { CliContext } from './context.js'
import { EXIT_CONFIG, EXIT_USAGE } from './exit-codes.js'

/** EX_UNAVAILABLE: no daemon answering, or it could not do what was asked. */
export const EXIT_UNAVAILABLE = 69
/** EX_TEMPFAIL: try again later (`drain` timed out, or not drained without --wait). */
export const EXIT_TEMPFAIL = 75
/** EX_PROTOCOL: the endpoint answered something that is not the admin API. */
export const EXIT_PROTOCOL = 76
/** EX_NOPERM: the daemon refused our credentials or Host. */
export const EXIT_NOPERM = 77

export const DEFAULT_ADMIN_URL = 'http://127.0.0.1:8080'
const REQUEST_TIMEOUT_MS = 5_000
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024

export class AdminCliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message)
    this.name = 'AdminCliError'
  }
}

export interface AdminTargetOptions {
  admin?: string
  config?: string
}

export interface AdminTarget {
  /** Base URL without credentials or trailing slash, e.g. `http://127.0.0.1:8080`. */
  base: string
  /** `Basic …` when credentials were given. */
  authorization?: string
}

/** Adds `--admin URL` and `-c, --config FILE` to an operator command. */
export function addAdminOptions(cmd: Command): Command {
  return cmd
    .option('--admin <url>', `admin endpoint of the running daemon, e.g. http://127.0.0.1:8080 (credentials as http://user:password@host:port)`)
    .option('-c, --config <file>', "the daemon's config file: admin.listen (and admin.username/password) locate the endpoint")
    .addHelpText('after', `\nWithout --admin or --config the daemon is expected at ${DEFAULT_ADMIN_URL}.`)
}

/** Where the daemon is, from the options (see module doc). Throws AdminCliError (64) or ConfigError. */
export function resolveAdminTarget(opts: AdminTargetOptions, env: NodeJS.ProcessEnv): AdminTarget {
  if (opts.admin !== undefined) return targetFromUrl(opts.admin)
  if (opts.config !== undefined) return targetFromConfig(opts.config, env)
  return targetFromUrl(DEFAULT_ADMIN_URL)
}

function targetFromUrl(text: string): AdminTarget {
  let url: URL
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`)
  } catch {
    throw new AdminCliError(`--admin "${text}" is not a URL (example: http://127.0.0.1:8080)`, EXIT_USAGE)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new AdminCliError(`--admin must be an http:// or https:// URL, not ${url.protocol}`, EXIT_USAGE)
  }
  const user = decodeURIComponent(url.username)
  const password = decodeURIComponent(url.password)
  const authorization = user || password ? basic(user || 'admin', password) : undefined
  const base = `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`
  return { base, authorization }
}

/**
 * Reads only the `admin` section of the daemon's config, so secrets of other sections (an uplink
 * password in the service's environment) need not be set in the operator's shell.
 */
function targetFromConfig(file: string, env: NodeJS.ProcessEnv): AdminTarget {
  const { raw, yaml } = readConfigSection(file, 'admin')
  const sub = substituteEnv(raw ?? {}, env)
  if (sub.issues.length > 0) throw new ConfigError(file, sub.issues.map((i) => place(['admin', ...i.path], i.message, yaml)))
  const parsed = adminSectionSchema.safeParse(sub.value)
  if (!parsed.success) {
    throw new ConfigError(file, parsed.error.issues.map((i) => place(['admin', ...i.path.map((p) => (typeof p === 'symbol' ? String(p) : p))], i.message, yaml)))
  }
  const admin = parsed.data
  if (!admin.enabled) {
    throw new AdminCliError(`the admin endpoint is disabled in ${file} (admin.enabled: false); status, queue and drain need it`, EXIT_CONFIG)
  }
  // A wildcard listen address accepts loopback connections too.
  const host = admin.host === '0.0.0.0' ? '127.0.0.1' : admin.host === '::' ? '::1' : admin.host
  const hostPart = host.includes(':') ? `[${host}]` : host
  return {
    base: `http://${hostPart}:${admin.port}`,
    authorization: admin.password !== undefined ? basic(admin.username ?? 'admin', admin.password) : undefined,
  }
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`
}

/** Mutating requests carry this header (the daemon's CSRF/DNS-rebinding guard asks for it). */
const CSRF_HEADERS = { 'x-edge-gateway': '1' }

/** A small JSON client for the admin API. */
export class AdminClient {
  constructor(
    readonly target: AdminTarget,
    private readonly timeoutMs = REQUEST_TIMEOUT_MS,
  ) {}

  get<T>(path: string, query: Record<string, string | number | undefined> = {}): Promise<T> {
    return this.request<T>('GET', path, query)
  }

  post<T>(path: string, query: Record<string, string | number | undefined> = {}): Promise<T> {
    return this.request<T>('POST', path, query)
  }

  private async request<T>(method: 'GET' | 'POST', path: string, query: Record<string, string | number | undefined>): Promise<T> {
    const params = new URLSearchParams()
    for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v))
    const qs = params.toString()
    const url = new URL(`${this.target.base}${path}${qs ? `?${qs}` : ''}`)
    const headers: Record<string, string> = { accept: 'application/json', ...(method === 'POST' ? CSRF_HEADERS : {}) }
    if (this.target.authorization) headers.authorization = this.target.authorization
    let res: { status: number; text: string }
    try {
      res = await send(url, method, headers, this.timeoutMs)
    } catch (err) {
      throw this.unreachable(err)
    }
    let body: unknown
    try {
      body = res.text ? JSON.parse(res.text) : undefined
    } catch {
      body = undefined
    }
    if (res.status >= 200 && res.status < 300) {
      if (body === undefined) {
        throw new AdminCliError(`${this.target.base}${path} did not answer JSON: is it an edge-gateway admin endpoint?`, EXIT_PROTOCOL)
      }
      return body as T
    }
    throw this.httpError(res.status, path, body as { error?: string; message?: string } | undefined)
  }

  private unreachable(err: unknown): AdminCliError {
    const base = this.target.base
    if (err instanceof RequestTimeout) {
      return new AdminCliError(
        `no answer from an edge-gateway daemon at ${base} within ${this.timeoutMs / 1000} s — is it running? (systemctl status edge-gateway)`,
        EXIT_UNAVAILABLE,
      )
    }
    const code = errorCode(err)
    const why: Record<string, string> = {
      ECONNREFUSED: 'connection refused',
      ECONNRESET: 'connection reset',
      EHOSTUNREACH: 'host unreachable',
      ENETUNREACH: 'network unreachable',
      ETIMEDOUT: 'connection timed out',
      ENOTFOUND: 'host name not found',
      EAI_AGAIN: 'host name lookup failed',
    }
    const reason = (code && why[code]) ?? code ?? (err as Error)?.message ?? String(err)
    return new AdminCliError(
      `no edge-gateway daemon answering at ${base} (${reason}) — is it running? (systemctl status edge-gateway)`,
      EXIT_UNAVAILABLE,
    )
  }

  private httpError(status: number, path: string, body: { error?: string; message?: string } | undefined): AdminCliError {
    const base = this.target.base
    const detail = body?.message ?? body?.error ?? `HTTP ${status}`
    if (status === 401) {
      return new AdminCliError(
        `the admin endpoint at ${base} needs credentials (HTTP 401): pass --config with the daemon's config file ` +
          '(admin.username/admin.password) or --admin http://USER:PASSWORD@HOST:PORT',
        EXIT_NOPERM,
      )
    }
    if (typeof body?.error !== 'string' || (status === 404 && body.error === 'not_found')) {
      return new AdminCliError(`${base} does not serve ${path} (HTTP ${status}): is it an edge-gateway admin endpoint (of this version)?`, EXIT_PROTOCOL)
    }
    if (status === 403) return new AdminCliError(`the admin endpoint at ${base} refused the request: ${detail}`, EXIT_NOPERM)
    if (status >= 400 && status < 500) return new AdminCliError(detail, EXIT_USAGE)
    return new AdminCliError(`the daemon at ${base} failed to answer ${path} (HTTP ${status} ${body?.error ?? ''})`.trimEnd(), EXIT_UNAVAILABLE)
  }
}

class RequestTimeout extends Error {}

/** One request with node:http(s) (fetch() refuses "bad ports" such as 6000 and hides error codes). */
function send(url: URL, method: string, headers: Record<string, string>, timeoutMs: number): Promise<{ status: number; text: string }> {
  const request = url.protocol === 'https:' ? https.request : http.request
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (c: Buffer) => {
        size += c.length
        // The admin API's answers are bounded (see queue-routes.ts); this guards against other servers.
        if (size > MAX_RESPONSE_BYTES) req.destroy(new Error(`answer larger than ${MAX_RESPONSE_BYTES} bytes`))
        else chunks.push(c)
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new RequestTimeout('timeout')))
    req.on('error', reject)
    req.end()
  })
}

/** Socket errors carry `code`; a dual-stack connect may wrap them in an AggregateError. */
function errorCode(err: unknown): string | undefined {
  let e: unknown = err
  for (let depth = 0; depth < 4 && e; depth++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string') return code
    const errors = (e as { errors?: unknown[] }).errors
    if (Array.isArray(errors) && errors.length > 0) e = errors[0]
    else e = (e as { cause?: unknown }).cause
  }
  return undefined
}

/**
 * Runs an operator command body: its result is the exit code (default 0); an AdminCliError is
 * printed as `edge-gateway: message` with its exit code. Other errors propagate to `main`.
 */
export async function runOperatorAction(ctx: CliContext, body: () => Promise<number | void>): Promise<void> {
  try {
    ctx.exitCode = (await body()) ?? 0
  } catch (err) {
    if (!(err instanceof AdminCliError)) throw err
    ctx.io.err(`edge-gateway: ${err.message}\n`)
    ctx.exitCode = err.exitCode
  }
}

/** The client for a command's `--admin`/`--config` options. */
export function clientFor(opts: AdminTargetOptions, ctx: CliContext): AdminClient {
  return new AdminClient(resolveAdminTarget(opts, ctx.io.env))
}

/** Whether a standard stream of this process is a terminal (prompts, progress bars). */
export function isTerminal(stream: 'stdin' | 'stdout' | 'stderr'): boolean {
  return process[stream].isTTY === true
}
