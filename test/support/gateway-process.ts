/**
 * The real gateway as a child process (`edge-gateway run --config FILE`, the compiled dist/), for
 * tests that kill it with SIGKILL: only a separate process shows what a crash leaves on disk.
 * A child raises no event when it is done, so its progress is read by polling its admin endpoint.
 * No vitest imports.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { cliBin } from './cli-run.js'

export interface GatewayProcess {
  readonly child: ChildProcess
  /** Everything it wrote to stderr so far: put it in assertion messages. */
  stderr(): string
  /** Sends `signal` and resolves once the process has exited (at once if it already has). */
  kill(signal: NodeJS.Signals): Promise<void>
}

/** Starts the gateway on `configPath`. Its stderr is always drained, so a chatty run never blocks. */
export function spawnGateway(configPath: string): GatewayProcess {
  const child = spawn(process.execPath, [cliBin, 'run', '--config', configPath], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  return {
    child,
    stderr: () => stderr,
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      await exited
    },
  }
}

interface HealthJson {
  components?: { sources?: Array<{ state?: string }> }
}

/**
 * Resolves once the gateway behind `adminPort` has finished a finite run: its first source is
 * `done` (a simulator with `count`) and nothing is left queued for `uplinkId`.
 * @throws Error after timeoutMs.
 */
export async function waitUntilDoneAndDrained(adminPort: number, uplinkId: string, timeoutMs = 60_000): Promise<void> {
  const drained = new RegExp(`edge_gateway_queue_depth\\{uplink="${uplinkId}"\\} 0\\b`)
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      const health = (await (await fetch(`http://127.0.0.1:${adminPort}/healthz`)).json()) as HealthJson
      const metrics = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text()
      if (health.components?.sources?.[0]?.state === 'done' && drained.test(metrics)) return
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('gateway did not finish in time')
    await new Promise((r) => setTimeout(r, 100))
  }
}
