/**
 * kill -9 of the real gateway process (the CLI, `run --config`) under load, twice, then a final
 * run to completion: counted at a subscriber from source + sequence, nothing is lost.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { freePort, requireMosquitto, startMosquitto } from './support/mosquitto.js'
import { collectEvents } from './support/collector.js'
import { waitUntilDoneAndDrained } from './support/gateway-process.js'
import { spawnGatewayForTest } from './per-test-resources.js'
import { distinctPairs, maxSequences, noGapsBelowMax } from './support/sequence-verdict.js'

const hasMosquitto = requireMosquitto()
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

describe.skipIf(!hasMosquitto)('gateway process killed with SIGKILL under load', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'eg-crash-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('loses nothing: every sequence of every device arrives, across two kills and restarts', { timeout: 120_000 }, async () => {
    const broker = await startMosquitto()
    const col = await collectEvents(broker.url, 'edge/#', { protocolVersion: 5 })
    const configPath = path.join(dir, 'config.yaml')
    const adminPort = await freePort()
    writeFileSync(configPath, configYaml(path.join(dir, 'data'), broker.url, adminPort))
    const distinct = (): number => distinctPairs(col.events)

    for (const killAfter of [800, 2500]) {
      const gateway = spawnGatewayForTest(configPath)
      await col.waitFor(() => distinct() >= killAfter, 30_000)
      await gateway.kill('SIGKILL')
    }
    // Last run: the simulator restarts its count and produces COUNT more per device. Wait (via
    // the admin endpoint) until it is done and its queue is empty, then stop it cleanly.
    const receivedBefore = maxSequences(col.events)
    const last = spawnGatewayForTest(configPath)
    await waitUntilDoneAndDrained(adminPort, 'up')
    await col.waitFor(() => noGapsBelowMax(col.events), 10_000)
    await last.kill('SIGTERM')
    expect(last.child.exitCode, last.stderr()).toBe(0)

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
