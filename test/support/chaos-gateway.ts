/**
 * The REAL gateway as a child process for chaos tests: `node bin/edge-gateway.js run --config F`
 * (dist/ built by test/support/global-setup.ts, run from a private copy: see runtimeRoot), its
 * admin endpoint, and kill -9 / SIGTERM.
 *
 * ```ts
 * const gw = startGatewayProcess({ configPath, label: 'run 1' })
 * const admin = new AdminClient(adminPort)
 * await admin.waitFor(({ health }) => health?.status === 'ok', 10_000, 'healthy')
 * await gw.kill9()
 * ```
 * Every child is remembered until it exits: `killAllGateways()` (call it in afterAll) and a
 * process 'exit' hook SIGKILL whatever is left, so no gateway outlives a failed run. Output
 * (stdout and stderr: pino writes JSON lines to stdout) is kept in a bounded buffer for failure
 * messages. The config file is written as JSON, which is valid YAML.
 *
 * No vitest import: compiled with the build (tsconfig.build.json includes test/support).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const UP_TWO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
/** The repository root, from the sources (test/support) or from the build (dist/test/support). */
const ROOT = path.basename(UP_TWO) === 'dist' ? path.dirname(UP_TWO) : UP_TWO
const OUTPUT_LIMIT = 256 * 1024

let snapshot: string | undefined
/**
 * A private copy of bin/ and dist/ (node_modules linked), made once per test process at the first
 * spawn, right after global-setup built dist/. Every gateway of the run starts from it, so a
 * rebuild of dist/ meanwhile (another vitest run on the same checkout rebuilds it in its global
 * setup) cannot swap modules under a chaos run. Removed when the process exits.
 */
export function runtimeRoot(): string {
  if (snapshot) return snapshot
  const dir = mkdtempSync(path.join(os.tmpdir(), 'eg-chaos-runtime-'))
  cpSync(path.join(ROOT, 'bin'), path.join(dir, 'bin'), { recursive: true })
  cpSync(path.join(ROOT, 'dist'), path.join(dir, 'dist'), { recursive: true })
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir')
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }))
  return (snapshot = dir)
}

/**
 * For afterAll: SIGKILLs every gateway still running, then removes the private runtime copy
 * (a vitest worker can end without an 'exit' event, so do not rely on that hook alone).
 */
export async function cleanupChaos(): Promise<void> {
  await killAllGateways()
  if (snapshot) rmSync(snapshot, { recursive: true, force: true })
  snapshot = undefined
}

const running = new Set<ChildProcess>()
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

export interface GatewayExit {
  code: number | null
  signal: NodeJS.Signals | null
}

export interface GatewayProcess {
  readonly pid: number | undefined
  readonly label: string
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<GatewayExit>
  readonly alive: boolean
  /** Last OUTPUT_LIMIT characters of stdout + stderr. */
  output(): string
  /**
   * Every distinct `msg` logged at error (50) or fatal (60) since start, with a count and the
   * first `err.message` (bounded to 50 messages). Survives floods that push them out of output().
   */
  errors(): Map<string, { n: number; err: string }>
  /** SIGKILL; resolves once it has exited. */
  kill9(): Promise<GatewayExit>
  /** SIGTERM; SIGKILL after `timeoutMs`. Resolves with the exit (signal SIGKILL if it had to). */
  stop(timeoutMs?: number): Promise<GatewayExit>
}

export interface StartGatewayOptions {
  configPath: string
  /** Shown in failure messages. */
  label?: string
  /** Added to the environment (e.g. LD_PRELOAD for libfaketime). */
  env?: Record<string, string>
}

/** Writes `config` (a plain object in the config file's shape) as JSON and returns its path. */
export function writeGatewayConfig(file: string, config: object): string {
  writeFileSync(file, JSON.stringify(config, null, 2))
  return file
}

export function startGatewayProcess(opts: StartGatewayOptions): GatewayProcess {
  const label = opts.label ?? path.basename(opts.configPath)
  const child = spawn(process.execPath, [path.join(runtimeRoot(), 'bin/edge-gateway.js'), 'run', '--config', opts.configPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...opts.env },
  })
  running.add(child)
  let out = ''
  const keep = (d: Buffer): void => {
    out += d.toString()
    if (out.length > OUTPUT_LIMIT * 2) out = out.slice(-OUTPUT_LIMIT)
  }
  const errors = new Map<string, { n: number; err: string }>()
  let partial = ''
  const scan = (d: Buffer): void => {
    const lines = (partial + d.toString()).split('\n')
    partial = lines.pop()!.slice(-65_536)
    for (const line of lines) {
      if (!/"level":(50|60)/.test(line)) continue
      try {
        const j = JSON.parse(line) as { msg?: string; err?: { message?: string } }
        const key = j.msg ?? '?'
        const cur = errors.get(key)
        if (cur) cur.n++
        else if (errors.size < 50) errors.set(key, { n: 1, err: (j.err?.message ?? '').slice(0, 160) })
      } catch {
        // not JSON
      }
    }
  }
  child.stdout!.on('data', (d: Buffer) => {
    keep(d)
    scan(d)
  })
  child.stderr!.on('data', keep)
  const exited = new Promise<GatewayExit>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child)
      resolve({ code, signal })
    })
    child.once('error', (err) => {
      keep(Buffer.from(`spawn error: ${err.message}\n`))
      running.delete(child)
      resolve({ code: null, signal: null })
    })
  })
  const alive = (): boolean => child.exitCode === null && child.signalCode === null
  return {
    pid: child.pid,
    label,
    exited,
    get alive() {
      return alive()
    },
    output: () => out.slice(-OUTPUT_LIMIT),
    errors: () => errors,
    kill9: async () => {
      if (alive()) child.kill('SIGKILL')
      return exited
    },
    stop: async (timeoutMs = 15_000) => {
      if (!alive()) return exited
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
      const result = await exited
      clearTimeout(timer)
      return result
    },
  }
}

/** SIGKILLs every gateway child still running and waits for them to exit. */
export async function killAllGateways(): Promise<void> {
  const all = [...running]
  await Promise.all(all.map((c) => new Promise<void>((resolve) => {
    if (c.exitCode !== null || c.signalCode !== null) return resolve()
    c.once('exit', () => resolve())
    c.kill('SIGKILL')
  })))
}

export interface HealthJson {
  status?: 'ok' | 'degraded' | 'unhealthy'
  healthy?: boolean
  reasons?: string[]
  warnings?: string[]
  components?: {
    store?: { open?: boolean }
    sources?: Array<{ id: string; state?: string; detail?: string }>
    uplinks?: Array<{ id: string; connected?: boolean; detail?: string }>
  }
}

export interface AdminSnapshot {
  /** HTTP status of /healthz, or undefined when nothing answered. */
  httpStatus: number | undefined
  health: HealthJson | undefined
  /** /metrics text ('' when it did not answer). */
  metrics: string
  /**
   * Drops by reason from /api/status (the store's own counts merged with the pipeline's), {}
   * when unavailable. The store counts some reasons (expired, corrupt_entry) only there.
   */
  drops: Record<string, number>
  /** Readings buffered in ingest, not yet committed (/api/status pipeline.ingestPending); undefined when unavailable. */
  ingestPending: number | undefined
}

/** Reads the child's admin endpoint (an external process: polling is the only way). */
export class AdminClient {
  constructor(readonly port: number) {}

  /** One look at /healthz and /metrics; never throws (a dead endpoint gives httpStatus undefined). */
  async snapshot(timeoutMs = 2_000): Promise<AdminSnapshot> {
    const base = `http://127.0.0.1:${this.port}`
    try {
      const res = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(timeoutMs) })
      const health = (await res.json()) as HealthJson
      const metrics = await (await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(timeoutMs) })).text()
      let drops: Record<string, number> = {}
      let ingestPending: number | undefined
      try {
        const st = await fetch(`${base}/api/status`, { signal: AbortSignal.timeout(timeoutMs) })
        if (st.ok) {
          const body = (await st.json()) as { drops?: Record<string, number>; pipeline?: { ingestPending?: number } }
          drops = body.drops ?? {}
          ingestPending = body.pipeline?.ingestPending
        }
      } catch {
        // no status API in this build
      }
      return { httpStatus: res.status, health, metrics, drops, ingestPending }
    } catch {
      return { httpStatus: undefined, health: undefined, metrics: '', drops: {}, ingestPending: undefined }
    }
  }

  /**
   * Polls every `intervalMs` until `ok(snapshot)` holds; rejects after `timeoutMs` with `what`
   * and the last snapshot. `alive`, when given, makes it fail fast if the process died.
   */
  async waitFor(
    ok: (s: AdminSnapshot) => boolean,
    timeoutMs: number,
    what: string,
    opts: { intervalMs?: number; gateway?: GatewayProcess; giveUp?: () => string | undefined } = {},
  ): Promise<AdminSnapshot> {
    const deadline = Date.now() + timeoutMs
    let last: AdminSnapshot | undefined
    for (;;) {
      last = await this.snapshot()
      if (ok(last)) return last
      if (opts.gateway && !opts.gateway.alive) {
        throw new Error(`${what}: gateway ${opts.gateway.label} exited (${JSON.stringify(await opts.gateway.exited)}):\n${opts.gateway.output().slice(-4000)}`)
      }
      const hopeless = opts.giveUp?.()
      if (hopeless) throw new Error(`${what}: gave up early: ${hopeless}; last /healthz ${last.httpStatus} ${JSON.stringify(last.health)}`)
      if (Date.now() > deadline) {
        const depths = last.metrics.split('\n').filter((l) => l.startsWith('edge_gateway_queue_depth{')).join(', ')
        throw new Error(`${what}: not within ${timeoutMs} ms; last /healthz ${last.httpStatus} ${JSON.stringify(last.health)}; ingest pending ${last.ingestPending}; ${depths}\n${opts.gateway?.output().slice(-4000) ?? ''}`)
      }
      await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100))
    }
  }
}

/** Value of one series (`name{labels}` exactly as rendered), or 0 when absent. */
export function metric(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? 0 : Number(line.slice(series.length + 1))
}

/** Sum of every series of `name` whose label text contains each of `mustContain`. */
export function metricSum(text: string, name: string, mustContain: string[] = []): number {
  let sum = 0
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue
    if (!mustContain.every((m) => line.includes(m))) continue
    sum += Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return sum
}

/** `errors()` of a gateway as one line: `store append failed (x12: IO error ...); ...`. */
export function errorSummary(gw: GatewayProcess, limit = 6): string {
  return [...gw.errors()].slice(0, limit).map(([msg, { n, err }]) => `${msg} (x${n}${err ? `: ${err}` : ''})`).join('; ')
}
