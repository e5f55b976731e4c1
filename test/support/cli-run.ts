/**
 * Runs the real CLI (`node bin/edge-gateway.js ...` against the compiled dist/) as an operator
 * would, for tests. No vitest imports.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
export const cliBin = path.join(repoRoot, 'bin/edge-gateway.js')

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs the CLI to completion; `input` is written to its stdin (closed either way). */
export function runCli(args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [cliBin, ...args], { cwd: repoRoot, env: opts.env ?? process.env })
  const result = collect(child)
  child.stdin.end(opts.input ?? '')
  return result
}

/** Collects a child's output until it exits. */
export function collect(child: ChildProcess): Promise<CliResult> {
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()))
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

/** Maps `items` through `fn` with at most `limit` running at once, keeping order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i]!)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return out
}

/**
 * A long-running CLI child (simulate, demo): `waitForOutput(re)` resolves with the first match in
 * stdout (event-driven, checked on every chunk); `stop()` sends SIGTERM and resolves with the result.
 */
export interface CliProcess {
  readonly child: ChildProcess
  output(): { stdout: string; stderr: string }
  waitForOutput(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>
  /** Resolves when the process exits by itself. */
  exited(): Promise<CliResult>
  stop(signal?: NodeJS.Signals): Promise<CliResult>
}

export function startCli(args: string[], env: NodeJS.ProcessEnv = process.env): CliProcess {
  const child = spawn(process.execPath, [cliBin, ...args], { cwd: repoRoot, env })
  let stdout = ''
  let stderr = ''
  const listeners = new Set<() => void>()
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString()
    for (const l of [...listeners]) l()
  })
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const done = new Promise<CliResult>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })))
  let closed = false
  void done.then(() => {
    closed = true
    for (const l of [...listeners]) l()
  })
  return {
    child,
    output: () => ({ stdout, stderr }),
    waitForOutput: (re, timeoutMs = 20_000) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const m = stdout.match(re)
          if (m) {
            finish()
            resolve(m)
          } else if (closed) {
            finish()
            reject(new Error(`CLI exited (${child.exitCode ?? child.signalCode}) before printing ${re}\nstdout: ${stdout}\nstderr: ${stderr}`))
          }
        }
        const timer = setTimeout(() => {
          finish()
          reject(new Error(`CLI did not print ${re} within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`))
        }, timeoutMs)
        const finish = (): void => {
          clearTimeout(timer)
          listeners.delete(check)
        }
        listeners.add(check)
        check()
      }),
    exited: () => done,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return done
    },
  }
}
