/**
 * Reads a stopped gateway's store back in a CHILD process and prints, as JSON, its per-source
 * sequence counters and, per uplink, the events still queued for it (`source#sequence`):
 * `node dist/test/support/chaos-read-counters.js <queueDir> <uplink,...>`.
 *
 * A child, not the test process: LevelDB asserts (abort()) when a damaged table makes a
 * compaction see keys out of order, and that must fail one scenario, not kill the test runner.
 * No vitest import: compiled with the build (tsconfig.build.json includes test/support).
 */
import { spawn } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { LevelStore } from '../../gateway/store/index.js'
import { runtimeRoot } from './chaos-gateway.js'

const SELF = fileURLToPath(import.meta.url)

export interface StoredState {
  /** Last CloudEvent sequence made durable, per source. */
  counters: Map<string, number>
  /** Per uplink: `source#sequence` of the events still queued for it (not yet confirmed). */
  held: Map<string, Set<string>>
}

interface StoredJson {
  counters: Record<string, number>
  held: Record<string, string[]>
}

/** Spawns this file (its compiled form under dist/) and resolves with what the store holds. */
export function readStoreInChild(queueDir: string, uplinks: string[], timeoutMs = 30_000): Promise<StoredState> {
  // The same private build the gateways run from, so the store code matches theirs.
  const script = path.join(runtimeRoot(), 'dist', 'test', 'support', 'chaos-read-counters.js')
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, queueDir, uplinks.join(',')], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      if (code === 0) {
        try {
          const j = JSON.parse(out) as StoredJson
          return resolve({
            counters: new Map(Object.entries(j.counters)),
            held: new Map(Object.entries(j.held).map(([u, list]) => [u, new Set(list)])),
          })
        } catch (e) {
          return reject(new Error(`store read-back printed no JSON: ${(e as Error).message}`))
        }
      }
      reject(new Error(`store read-back exited ${code ?? signal}: ${err.trim().split('\n').slice(-6).join(' | ')}`))
    })
  })
}

async function main(queueDir: string, uplinks: string[]): Promise<void> {
  const store = new LevelStore({ dir: queueDir, maxBytes: 2 ** 40, maxAgeMs: 2 ** 40, uplinks })
  await store.open()
  try {
    const held: Record<string, string[]> = {}
    for (const uplink of uplinks) {
      held[uplink] = (await store.peek(uplink, 1_000_000)).map((e) => {
        const seq = (JSON.parse(e.json) as { sequence?: string }).sequence
        return `${e.source}#${seq === undefined ? '?' : Number(seq)}`
      })
    }
    const json: StoredJson = { counters: Object.fromEntries(await store.counters()), held }
    process.stdout.write(JSON.stringify(json))
  } finally {
    await store.close()
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === SELF) {
  main(process.argv[2]!, (process.argv[3] ?? '').split(',').filter(Boolean)).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? `${err.message}; ${String(err.cause ?? '')}` : String(err)}\n`)
    process.exit(1)
  })
}
