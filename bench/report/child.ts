/**
 * Runs a compiled bench worker (dist/bench/...) in a child process, optionally pinned to CPUs with
 * `taskset -c LIST` (util-linux): the affinity applies to every thread of the child (libuv pool,
 * LevelDB compaction), so `pin: '0'` approximates a single-core device. Peers the parent runs
 * (Mosquitto, the AMQP peer, subscribers) stay unpinned.
 *
 * Protocol: every stdout line that parses as JSON is a message; the last one is the result.
 * `onMessage` may answer on the child's stdin (`send`), e.g. "go" once a broker is up.
 */
import { spawn, spawnSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** dist/bench, where the compiled workers live. */
export const BENCH_DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

export interface ChildOptions {
  /** CPU list for `taskset -c`, e.g. '0'. Unset: no pinning. */
  pin?: string
  /** Extra node flags, e.g. ['--expose-gc']. */
  nodeArgs?: string[]
  onMessage?: (msg: Record<string, unknown>, send: (line: string) => void) => void | Promise<void>
}

/** True when `taskset` runs here (util-linux). */
export function tasksetAvailable(): boolean {
  return spawnSync('taskset', ['-c', '0', 'true']).status === 0
}

/**
 * Runs `node [nodeArgs] BENCH_DIST/script ...args` and resolves with its last JSON line. Rejects
 * when it exits non-zero, prints no JSON, or `onMessage` throws.
 */
export function runJsonChild<T = Record<string, unknown>>(script: string, args: string[], opts: ChildOptions = {}): Promise<T> {
  const nodeCmd = [process.execPath, ...(opts.nodeArgs ?? []), path.join(BENCH_DIST, script), ...args]
  const [cmd, ...argv] = opts.pin !== undefined ? ['taskset', '-c', opts.pin, ...nodeCmd] : nodeCmd
  return new Promise((resolve, reject) => {
    const child = spawn(cmd!, argv, { stdio: ['pipe', 'pipe', 'inherit'] })
    let last: Record<string, unknown> | undefined
    let partial = ''
    let failed: unknown
    const send = (line: string): void => void child.stdin.write(line + '\n')
    child.stdout.on('data', (d: Buffer) => {
      partial += d.toString()
      const lines = partial.split('\n')
      partial = lines.pop()!
      for (const line of lines) {
        let msg: Record<string, unknown>
        try {
          msg = JSON.parse(line) as Record<string, unknown>
        } catch {
          continue // not a message
        }
        last = msg
        Promise.resolve(opts.onMessage?.(msg, send)).catch((err: unknown) => {
          failed = err
          child.kill('SIGKILL')
        })
      }
    })
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      child.stdin.destroy()
      if (failed) return reject(failed instanceof Error ? failed : new Error(String(failed)))
      if (code !== 0) return reject(new Error(`${script} ${args[0] ?? ''} exited ${code ?? signal}`))
      if (!last) return reject(new Error(`${script} printed no result`))
      resolve(last as T)
    })
  })
}
