/**
 * `edge-gateway simulate ...` as an operator runs it (`node bin/edge-gateway.js`, compiled dist/),
 * against REAL drivers in this process: the serial source opens the device path the simulator
 * prints; the MQTT ingress takes the simulated ESP32s' publishes. The sinks record what arrived.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { MqttIngressSource, mqttIngressSourceSchema } from '../drivers/mqtt-ingress/index.js'
import { serialSourceSchema, SerialSource } from '../drivers/serial/index.js'
import { RecordingCounters, silentLogger } from '../gateway/core/observability.js'
import { socatGate } from './serial-socat-gate.js'
import { runCli, startCli } from './support/cli-run.js'
import { RecordingSink } from './support/serial-harness.js'

const hasSocat = socatGate()

describe.skipIf(!hasSocat)('edge-gateway simulate serial', () => {
  it('prints the device path; a real SerialSource opens it and reads NMEA fixes in order', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'eg-sim-serial-'))
    const link = path.join(dir, 'ttyGW')
    const sim = startCli(['simulate', 'serial', '--link', link, '--format', 'nmea', '--rate', '100'])
    const ac = new AbortController()
    let running: Promise<void> | undefined
    try {
      const [, printed] = await sim.waitForOutput(/^device path: (.+)$/m)
      expect(printed).toBe(link)
      const config = serialSourceSchema.parse({ type: 'serial', id: 'gps', path: printed, baudRate: 115200, format: 'nmea' })
      const source = new SerialSource(config, { log: silentLogger, counters: new RecordingCounters() })
      const sink = new RecordingSink()
      running = source.run(sink, ac.signal)
      await sink.waitFor(() => sink.readings.filter((r) => r.kind === 'gnss.fix').length >= 20, '20 fixes')
      const fixes = sink.readings.filter((r) => r.kind === 'gnss.fix').map((r) => r.data as { sentence: string; latitude: number })
      // The simulator alternates GGA and RMC, drifting north: consecutive, never out of order.
      for (let i = 1; i < fixes.length; i++) {
        expect(fixes[i]!.sentence).not.toBe(fixes[i - 1]!.sentence)
        expect(fixes[i]!.latitude).toBeGreaterThanOrEqual(fixes[i - 1]!.latitude)
      }
      expect(source.stats().linesRejected).toBeLessThanOrEqual(1) // a line cut in half by opening mid-stream
    } finally {
      ac.abort()
      await running
      const r = await sim.stop('SIGTERM')
      expect(r.code, r.stderr).toBe(0)
      expect(r.stdout).toMatch(/^stopped: \d+ lines written$/m)
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('refuses to replace a link path that is not a symlink', async () => {
    const r = await runCli(['simulate', 'serial', '--link', path.join(os.tmpdir())])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/exists and is not a symlink; refusing to replace it/)
  })
})

describe('edge-gateway simulate mqtt|fleet against the real MQTT ingress', () => {
  let source: MqttIngressSource
  let sink: RecordingSink
  let ac: AbortController
  let running: Promise<void>
  let url: string

  beforeEach(async () => {
    const config = mqttIngressSourceSchema.parse({
      type: 'mqtt', id: 'lan', listen: '127.0.0.1:0',
      devices: Array.from({ length: 5 }, (_, i) => ({ username: `esp32-${i + 1}`, password: `pw-${i + 1}`, topics: ['sensors/#'] })),
      topicMap: [{ pattern: 'sensors/+/env', deviceId: '{1}', kind: 'environment' }],
    })
    source = new MqttIngressSource(config, { log: silentLogger, counters: new RecordingCounters() })
    sink = new RecordingSink()
    ac = new AbortController()
    running = source.run(sink, ac.signal)
    expect((await source.ready()).state).toBe('running')
    url = `mqtt://127.0.0.1:${source.address()!.port}`
  })
  afterEach(async () => {
    ac.abort()
    await running
  })

  const summaryOf = (stdout: string): Record<string, unknown> => JSON.parse(stdout.trimEnd().split('\n').at(-1)!)

  it('simulate mqtt: N devices with their own credentials; every publish PUBACKed, per-device order kept', async () => {
    const r = await runCli(['simulate', 'mqtt', '--url', url, '--username', 'esp32-{n}', '--password', 'pw-{n}', '--devices', '2', '--rate', '50', '--count', '10'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/2 simulated ESP32\(s\) connected to mqtt:\/\/127\.0\.0\.1:\d+ \(esp32-000001 \.\. esp32-000002\)/)
    expect(summaryOf(r.stdout)).toMatchObject({ summary: 'mqtt', devices: 2, published: 10, acked: 10, failed: 0, inFlight: 0 })
    expect(sink.readings).toHaveLength(10)
    for (const device of ['esp32-000001', 'esp32-000002']) {
      const mine = sink.readings.filter((x) => x.deviceId === device)
      expect(mine.map((x) => (x.data as { seq: number }).seq)).toEqual([1, 2, 3, 4, 5])
      expect(mine.every((x) => x.kind === 'environment' && x.priority === 'telemetry')).toBe(true)
    }
  })

  it('simulate fleet: N publishers at R msgs/s in total, what the gateway stored is reported', async () => {
    const r = await runCli(['simulate', 'fleet', '--devices', '5', '--rate', '400', '--count', '200', '--url', url, '--username', 'esp32-{n}', '--password', 'pw-{n}'])
    expect(r.code, r.stderr).toBe(0)
    const summary = summaryOf(r.stdout)
    expect(summary).toMatchObject({ summary: 'fleet', devices: 5, published: 200, acked: 200, failed: 0 })
    expect(sink.readings).toHaveLength(200)
    expect(new Set(sink.readings.map((x) => x.deviceId)).size).toBe(5)
  })

  it('wrong credentials: exit 1 and says why', async () => {
    const r = await runCli(['simulate', 'mqtt', '--url', url, '--username', 'esp32-1', '--password', 'nope', '--count', '1'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^edge-gateway simulate mqtt: cannot connect to mqtt:\/\/127\.0\.0\.1:\d+: refused by the broker \(CONNACK [45]\)/)
    expect(sink.readings).toHaveLength(0)
  })
})

describe('edge-gateway simulate ble|gpio and --help', () => {
  it('explain that BLE and GPIO run in-process in the demo', async () => {
    const [help, ble, gpio] = await Promise.all([runCli(['simulate', '--help']), runCli(['simulate', 'ble']), runCli(['simulate', 'gpio'])])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('BLE and GPIO are not simulated here')
    expect(help.stdout).toContain('npm start')
    for (const [r, kind] of [[ble, 'ble'], [gpio, 'gpio']] as const) {
      expect(r.code).toBe(64)
      expect(r.stderr).toMatch(new RegExp(`^edge-gateway simulate ${kind}: not available as a separate process\\.\\n`))
      expect(r.stderr).toContain('They run in-process in the demo (npm start')
    }
  })
})
