/**
 * Every device driver end to end: a simulated device speaking the real wire format → the REAL
 * driver (fake only at its lowest layer) → ingest → LevelStore → MQTT uplink → Mosquitto → a real
 * subscriber, checking the CloudEvents that arrive: type, source, data, and an unbroken sequence.
 *
 *   gpio   FakeGpioLine + fake sysfs tree   → GpioSource       (extraSources)
 *   ble    advert bytes → simulated binding → real noble → BleSource (extraSources)
 *   mqtt   ESP32 publishers (MQTT 3.1.1)    → MqttIngressSource from config, on a free port
 *   serial NMEA GPS on a socat PTY pair     → SerialSource from config (needs socat)
 */
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GpioSource, gpioSourceSchema } from '../drivers/gpio/index.js'
import { BleSource, bleSourceSchema } from '../drivers/ble/index.js'
import { FakeGpioLine, PI4_KERNEL_6_6, writeFakeGpioSysfs } from '../firmware-sim/doorbell.js'
import { SimulatedBleBinding, simulatedNoble } from '../firmware-sim/ble-advertiser.js'
import { bthomeAdvert, ruuviAdvert } from '../firmware-sim/ble-encoders.js'
import { Esp32Fleet } from '../firmware-sim/esp32-fleet.js'
import { SerialSensorSim } from '../firmware-sim/serial-sensor.js'
import { socatGate } from './serial-socat-gate.js'
import { collectEvents, type Collector, type ReceivedEvent } from './support/collector.js'
import { until } from './support/gateway-harness.js'
import { freePort, requireMosquitto, startMosquitto, type MosquittoHandle } from './support/mosquitto.js'
import { openPtyPair } from './support/pty-pair.js'
import { startGatewayWithSources } from './support/extra-sources-gateway.js'

const hasMosquitto = requireMosquitto()
const hasSocat = socatGate()
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const seq = (n: number): string => String(n).padStart(20, '0')

/** Events of one CloudEvent source, in arrival order. */
const of = (col: Collector, source: string): ReceivedEvent[] => col.events.filter((e) => e.source === source)

/** Every event a valid CloudEvent of `type`, sequences 1..n in arrival order, one id each. */
function expectStream(events: ReceivedEvent[], type: string, n: number): void {
  expect(events.map((e) => e.event.sequence)).toEqual(Array.from({ length: n }, (_, i) => seq(i + 1)))
  for (const e of events) {
    expect(e.event).toMatchObject({ specversion: '1.0', type, datacontenttype: 'application/json' })
    expect(e.id).toMatch(UUID)
  }
  expect(new Set(events.map((e) => e.id)).size).toBe(n)
}

describe.skipIf(!hasMosquitto)('device drivers → pipeline → Mosquitto', () => {
  let broker: MosquittoHandle
  beforeAll(async () => {
    broker = await startMosquitto()
  })
  afterAll(async () => {
    await broker?.stop()
  })

  it('gpio: doorbell presses on a fake GPIO line arrive as alerts, in order', async () => {
    const col = await collectEvents(broker.url, 'edge/gw-gpio/#')
    const sysfsRoot = await writeFakeGpioSysfs(PI4_KERNEL_6_6)
    const line = new FakeGpioLine()
    // debounceMs 0: the presses below come back to back; bounce handling has its own tests.
    const config = gpioSourceSchema.parse({ type: 'gpio', id: 'doorbell', pin: 17, edge: 'rising', activeLow: true, debounceMs: 0, deviceId: 'front-door' })
    const gw = await startGatewayWithSources({
      gatewayId: 'gw-gpio',
      uplinks: [{ type: 'mqtt', id: 'up', url: broker.url }],
      extraSources: (deps) => [new GpioSource(config, { ...deps, openLine: line.opener, sysfsRoot })],
    })
    try {
      await line.watched()
      expect(line.openedWith).toEqual({ sysfsPin: 529, opts: { edge: 'rising', activeLow: true } }) // BCM 17 on a Pi 4, kernel 6.6
      for (let i = 0; i < 3; i++) {
        line.press()
        line.release() // filtered by the kernel's edge setting: only presses interrupt
      }
      const source = '/gateways/gw-gpio/doorbell/front-door'
      await col.waitFor((c) => of(c, source).length >= 3)
      const events = of(col, source)
      expectStream(events, 'io.edgegateway.doorbell.press', 3)
      expect(events.map((e) => e.event.data)).toEqual([1, 2, 3].map((presses) => ({ pressed: true, edge: 'rising', value: 1, presses, settled: expect.any(Boolean) })))
      expect(events[0]!.topic).toBe('edge/gw-gpio/doorbell/front-door/io.edgegateway.doorbell.press')
    } finally {
      await gw.dispose()
      await col.close()
      await rm(sysfsRoot, { recursive: true, force: true })
    }
  })

  it('ble: BTHome, RuuviTag and a BTHome button through real noble arrive as environment readings and an alert', async () => {
    const col = await collectEvents(broker.url, 'edge/gw-ble/#')
    const binding = new SimulatedBleBinding()
    const THERMO = 'a4:c1:38:8d:18:b2'
    const RUUVI = 'cb:b8:33:4c:88:4f'
    const BUTTON = '54:48:e6:00:00:01'
    const config = bleSourceSchema.parse({ type: 'ble', id: 'ble', minIntervalMs: 0, allow: [THERMO, RUUVI, BUTTON].map((mac) => ({ mac })) })
    const gw = await startGatewayWithSources({
      gatewayId: 'gw-ble',
      uplinks: [{ type: 'mqtt', id: 'up', url: broker.url, mode: 'batch' }],
      extraSources: (deps) => [new BleSource(config, { ...deps, loadNoble: async () => simulatedNoble(binding) })],
    })
    try {
      await binding.whenScanning()
      for (let i = 1; i <= 5; i++) binding.advertise(bthomeAdvert({ packetId: i, batteryPct: 90, temperatureC: 20 + i / 4, humidityPct: 45 }), { address: THERMO, rssi: -61 })
      binding.advertise(ruuviAdvert({ temperatureC: 4.5, humidityPct: 71.25, pressurePa: 100_044, batteryMv: 2977, measurementSequence: 7, mac: RUUVI }), { address: RUUVI, rssi: -70 })
      binding.advertise(bthomeAdvert({ packetId: 9, batteryPct: 80, button: 'press' }), { address: BUTTON })
      const thermo = '/gateways/gw-ble/ble/a4c1388d18b2'
      const ruuvi = '/gateways/gw-ble/ble/cbb8334c884f'
      const button = '/gateways/gw-ble/ble/5448e6000001'
      await col.waitFor((c) => of(c, thermo).length >= 5 && of(c, ruuvi).length >= 1 && of(c, button).some((e) => e.event.type === 'io.edgegateway.button.press'))

      const t = of(col, thermo)
      expectStream(t, 'io.edgegateway.environment', 5)
      expect(t.map((e) => e.event.data)).toEqual([1, 2, 3, 4, 5].map((i) => ({ packetId: i, temperatureC: 20 + i / 4, humidityPct: 45, batteryPct: 90, encrypted: false, rssiDbm: -61 })))
      const [r] = of(col, ruuvi)
      expect(r!.event).toMatchObject({ type: 'io.edgegateway.environment', sequence: seq(1) })
      expect(r!.event.data).toMatchObject({ temperatureC: 4.5, humidityPct: 71.25, pressureHpa: 1000.44, batteryMv: 2977, measurementSequence: 7, mac: RUUVI, rssiDbm: -70 })
      // The button advert carries a battery level too (telemetry) and the press (its own alert event).
      const press = of(col, button).find((e) => e.event.type === 'io.edgegateway.button.press')!
      expect(press.event.data).toMatchObject({ name: 'button', code: 1, packetId: 9 })
      expect(press.topic).toBe('edge/gw-ble/ble/5448e6000001/io.edgegateway.button.press')
      expect(col.verdict(new Map([[thermo, 5]]))).toMatchObject({ lost: 0, duplicated: 0, reordered: 0 })
    } finally {
      await gw.dispose()
      await col.close()
    }
  })

  it('mqtt ingress (from config): ESP32 publishes, PUBACKed once stored, arrive with the sensor JSON as data', async () => {
    const col = await collectEvents(broker.url, 'edge/gw-mqtt/#')
    const port = await freePort()
    const gw = await startGatewayWithSources({
      gatewayId: 'gw-mqtt',
      uplinks: [{ type: 'mqtt', id: 'up', url: broker.url }],
      sources: [{
        type: 'mqtt', id: 'lan', listen: `127.0.0.1:${port}`,
        devices: [1, 2].map((n) => ({ username: `esp32-${n}`, password: `pw-${n}`, topics: ['sensors/#'] })),
        topicMap: [{ pattern: 'sensors/+/env', deviceId: '{1}', kind: 'environment' }],
      }],
    })
    let fleet: Esp32Fleet | undefined
    try {
      // The ingress raises no event through the Gateway when it starts listening: poll its health.
      await until(() => gw.gateway.health().components.sources.some((s) => s.id === 'lan' && s.state === 'running'), 'ingress listening')
      fleet = await Esp32Fleet.connect({ url: `mqtt://127.0.0.1:${port}`, username: 'esp32-{n}', password: 'pw-{n}', devices: 2, maxInFlight: 4 })
      const stats = await fleet.run({ ratePerSec: 500, total: 10, signal: new AbortController().signal })
      expect(stats).toMatchObject({ published: 10, acked: 10, failed: 0, inFlight: 0 }) // every PUBACK = stored
      const sources = ['esp32-000001', 'esp32-000002'].map((d) => `/gateways/gw-mqtt/lan/${d}`)
      await col.waitFor((c) => sources.every((s) => of(c, s).length >= 5))
      for (const s of sources) {
        const events = of(col, s)
        expectStream(events, 'io.edgegateway.environment', 5)
        // The ESP32's own JSON, unchanged; its `seq` counts with the CloudEvent sequence.
        expect(events.map((e) => (e.event.data as { seq: number }).seq)).toEqual([1, 2, 3, 4, 5])
        expect(events[0]!.event.data).toEqual({ temperature: expect.any(Number), humidity: expect.any(Number), battery_mv: 3299, rssi: -61, uptime_s: 30, seq: 1 })
      }
    } finally {
      await fleet?.close()
      await gw.dispose()
      await col.close()
    }
  })

  describe.skipIf(!hasSocat)('serial (socat PTY)', () => {
    it('serial: an NMEA GPS on a PTY arrives as gnss.fix and gnss.course, in line order', async () => {
      const col = await collectEvents(broker.url, 'edge/gw-serial/#')
      const dir = await mkdtemp(path.join(os.tmpdir(), 'eg-serial-e2e-'))
      const pty = await openPtyPair(dir)
      const gw = await startGatewayWithSources({
        gatewayId: 'gw-serial',
        uplinks: [{ type: 'mqtt', id: 'up', url: broker.url, mode: 'binary' }],
        sources: [{ type: 'serial', id: 'gps', path: pty.b, baudRate: 9600, format: 'nmea', deviceId: 'gps-1' }],
      })
      const sim = new SerialSensorSim({ pty, format: 'nmea', autoWrite: false, baudRate: 9600 })
      try {
        // Open raises no event the test can await; the port must be open before the first line.
        await until(() => gw.gateway.health().components.sources.some((s) => s.id === 'gps' && s.state === 'running'), 'serial port open')
        await sim.start()
        await sim.writeLines(10) // 5 × (GGA, RMC): 10 fixes + 5 courses
        const src = '/gateways/gw-serial/gps/gps-1'
        await col.waitFor((c) => of(c, src).length >= 15)
        const events = of(col, src)
        expect(events.map((e) => e.event.sequence)).toEqual(Array.from({ length: 15 }, (_, i) => seq(i + 1)))
        expect(events.map((e) => `${e.event.type}/${(e.event.data as { sentence: string }).sentence}`)).toEqual(
          Array.from({ length: 5 }, () => ['io.edgegateway.gnss.fix/GGA', 'io.edgegateway.gnss.fix/RMC', 'io.edgegateway.gnss.course/RMC']).flat(),
        )
        const first = events[0]!
        expect(first.mode).toBe('binary')
        expect(first.event.data).toMatchObject({ sentence: 'GGA', talker: 'GP', fixQuality: 1, satellites: 8, timeUtc: '12:00:00.000' })
        expect((first.event.data as { latitude: number }).latitude).toBeCloseTo(48 + 7.038 / 60, 6)
        expect((first.event.data as { longitude: number }).longitude).toBeCloseTo(11 + 31 / 60, 6)
        expect(events[2]!.event.data).toMatchObject({ sentence: 'RMC', speedKnots: 22.4, courseTrueDeg: 84.4 })
        expect(gw.metrics.snapshot()).toMatchObject({ ingested: 15, rejected: 0 })
      } finally {
        await gw.dispose()
        await sim.stop()
        await pty.kill()
        await col.close()
        await rm(dir, { recursive: true, force: true })
      }
    })
  })
})
