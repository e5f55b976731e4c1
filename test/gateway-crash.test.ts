/**
 * kill -9 of the real gateway process (the CLI, `run --config`) under load, twice, then a final
 * run to completion: counted at a subscriber from source + sequence, nothing is lost.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { freePort, requireMosquitto, startMosquitto } from './support/mosquitto.js'
import { collectEvents } from './support/collector.js'

const hasMosquitto = requireMosquitto()
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const BIN = path.join(ROOT, 'bin/edge-gateway.js')
const DEVICES = 4
const COUNT = 1500

function configYaml(dataDir: string, url: string, adminPort: number): string {
  return `gateway:
  id: gw-crash
  dataDir: ${dataDir}
sources:
  - type: simulator
    id: sim
    devices: ${DEVICES}
    intervalMs: 2
    count: ${COUNT}
uplinks:
  - type: mqtt
    id: up
    url: ${url}
    maxEvents: 50
    maxInFlight: 4
admin:
  listen: 127.0.0.1:${adminPort}
log:
  level: warn
`
}

function startGateway(configPath: string): ChildProcess {
  return spawn(process.execPath, [BIN, 'run', '--config', configPath], { stdio: ['ignore', 'ignore', 'pipe'] })
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())))
}

describe.skipIf(!hasMosquitto)('gateway process killed with SIGKILL under load', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'eg-crash-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('loses nothing: every sequence of every device arrives, across two kills and restarts', { timeout: 120_000 }, async () => {
    const broker = await startMosquitto()
    const col = await collectEvents(broker.url, 'edge/#', { protocolVersion: 5 })
    const configPath = path.join(dir, 'config.yaml')
    const adminPort = await freePort()
    writeFileSync(configPath, configYaml(path.join(dir, 'data'), broker.url, adminPort))
    const distinct = (): number => new Set(col.events.map((e) => `${e.source}#${e.sequence}`)).size

    for (const killAfter of [800, 2500]) {
      const child = startGateway(configPath)
      await col.waitFor(() => distinct() >= killAfter, 30_000)
      child.kill('SIGKILL')
      await exited(child)
    }
    // Last run: the simulator restarts its count and produces COUNT more per device. Wait (via
    // the admin endpoint) until it is done and its queue is empty, then stop it cleanly.
    const receivedBefore = maxSequences(col.events)
    const last = startGateway(configPath)
    let stderr = ''
    last.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
    await pollAdmin(adminPort, (health, metrics) => health.components?.sources?.[0]?.state === 'done' && /edge_gateway_queue_depth\{uplink="up"\} 0\b/.test(metrics))
    await col.waitFor(() => distinct() >= sumOf(maxSequences(col.events)), 10_000)
    last.kill('SIGTERM')
    await exited(last)
    expect(last.exitCode, stderr).toBe(0)

    // Contiguity per source: sequences 1..max all present (lost = 0). Duplicates are allowed
    // (at-least-once), bounded by what was in flight at each kill.
    const max = maxSequences(col.events)
    for (const [source, before] of receivedBefore) expect(max.get(source)).toBeGreaterThanOrEqual(before + COUNT)
    const expected = new Map([...max].map(([s, m]) => [s, m]))
    const verdict = col.verdict(expected)
    expect(verdict.lost).toBe(0)
    expect(verdict.unexpected).toBe(0)
    expect(verdict.duplicated).toBeLessThanOrEqual(2 * 4 * 50 + 2 * 1000)
    await col.close()
    await broker.stop()
  })
})

function maxSequences(events: Array<{ source: string; sequence: number | undefined }>): Map<string, number> {
  const m = new Map<string, number>()
  for (const e of events) if (e.sequence !== undefined) m.set(e.source, Math.max(m.get(e.source) ?? 0, e.sequence))
  return m
}

function sumOf(m: Map<string, number>): number {
  return [...m.values()].reduce((a, b) => a + b, 0)
}

interface HealthJson {
  components?: { sources?: Array<{ state?: string }> }
}

/** Polls the child's admin endpoint (an external process: no event to await) until `ok` holds. */
async function pollAdmin(port: number, ok: (health: HealthJson, metrics: string) => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      const health = (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as HealthJson
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
      if (ok(health, metrics)) return
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('gateway did not finish in time')
    await new Promise((r) => setTimeout(r, 100))
  }
}
