/**
 * The REAL gateway for the soak: `node bin/edge-gateway.js run --config FILE` (the compiled dist/,
 * as systemd runs it) in a child process, its admin /metrics, and a clean SIGTERM stop.
 * Works from the sources (vitest) and from the build (dist/bench/soak). A child still running
 * when this process exits is SIGKILLed, so no gateway outlives a failed run.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const UP_TWO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
/** The repository root, from bench/soak or from dist/bench/soak. */
export const REPO_ROOT = path.basename(UP_TWO) === 'dist' ? path.dirname(UP_TWO) : UP_TWO
export const GATEWAY_BIN = path.join(REPO_ROOT, 'bin/edge-gateway.js')
const OUTPUT_LIMIT = 64 * 1024

const running = new Set<ChildProcess>()
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

export interface GatewayChild {
  readonly pid: number
  /** Last 64 KiB of stdout + stderr (pino writes JSON lines), for failure messages. */
  output(): string
  alive(): boolean
  /** SIGTERM, SIGKILL after `timeoutMs`; resolves with the exit code (null when killed). */
  stop(timeoutMs?: number): Promise<number | null>
}

export function startGatewayChild(configPath: string): GatewayChild {
  const child = spawn(process.execPath, [GATEWAY_BIN, 'run', '--config', configPath], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  if (child.pid === undefined) throw new Error(`could not spawn ${GATEWAY_BIN}`)
  running.add(child)
  let out = ''
  const keep = (d: Buffer): void => {
    out = (out + d.toString()).slice(-OUTPUT_LIMIT)
  }
  child.stdout!.on('data', keep)
  child.stderr!.on('data', keep)
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      running.delete(child)
      resolve(code)
    }),
  )
  return {
    pid: child.pid,
    output: () => out,
    alive: () => child.exitCode === null && child.signalCode === null,
    stop: async (timeoutMs = 15_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return exited
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
      const code = await exited
      clearTimeout(timer)
      return code
    },
  }
}

/** Sum of every series of metric `name` in Prometheus text (all label sets); undefined if absent. */
export function metricSum(text: string, name: string): number | undefined {
  let sum: number | undefined
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue
    const rest = line.slice(name.length)
    if (rest[0] !== ' ' && rest[0] !== '{') continue
    const value = Number(line.slice(line.lastIndexOf(' ') + 1))
    if (Number.isFinite(value)) sum = (sum ?? 0) + value
  }
  return sum
}

/** GET http://127.0.0.1:PORT/metrics; undefined while the endpoint does not answer. */
export async function scrapeMetrics(adminPort: number): Promise<string | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${adminPort}/metrics`, { signal: AbortSignal.timeout(5000) })
    return res.ok ? await res.text() : undefined
  } catch {
    return undefined
  }
}
