/**
 * The demo's simulated devices, each feeding a REAL driver through the fake at its lowest layer:
 *
 *   serial    NMEA GPS writing to a socat PTY ─────────▶ SerialSource (opens the PTY like /dev/ttyUSB0)
 *   ble       BTHome/Ruuvi/ATC advert bytes ─▶ simulated HCI binding ─▶ real noble ─▶ BleSource
 *   doorbell  FakeGpioLine (sysfs-like line, bouncing contacts) ─────▶ GpioSource
 *   mqtt      simulated ESP32s (MQTT 3.1.1, QoS 1) ─▶ loopback TCP ─▶ MqttIngressSource
 *
 * The sources are built here and handed to the Gateway as `extraSources`, because their fakes must
 * be injected (a config file cannot name a simulated noble binding). An input that cannot run here
 * (no socat, a setup failure) is left out with the reason, and the demo runs without it.
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { Logger } from '../core/observability.js'
import type { Source } from '../core/types.js'
import type { GatewayMetrics } from '../telemetry/metrics.js'

/** One line of the banner: what runs, or what was left out and why. */
export interface DemoInputReport {
  name: string
  running: boolean
  detail: string
}

export interface DemoInputs {
  /** Pass to the Gateway as `extraSources`. */
  sources: Source[]
  report: DemoInputReport[]
  /** Starts the simulated devices; call after `gateway.start()`. */
  startDevices(): Promise<void>
  /** Stops the simulated devices; call before `gateway.stop()`. Never rejects. */
  stopDevices(): Promise<void>
  /** Removes PTYs and temp files; call after `gateway.stop()`. Never rejects. */
  cleanup(): Promise<void>
}

export interface DemoInputOptions {
  log: Logger
  metrics: GatewayMetrics
  /** Doorbell press period, ms. @default 20000 */
  doorbellEveryMs?: number
}

interface Part {
  source: Source
  detail: string
  /** May refine the banner line (e.g. with an address known only once running). */
  start?: (line: DemoInputReport) => Promise<void> | void
  stop?: () => Promise<void> | void
  cleanup?: () => Promise<void> | void
}

type Builder = (ctx: { workDir: string; opts: DemoInputOptions }) => Promise<Part>

/** Builds every simulated input it can; never throws for one that cannot run here. */
export async function setupDemoInputs(opts: DemoInputOptions): Promise<DemoInputs> {
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'edge-demo-'))
  const builders: Array<[string, Builder]> = [['serial', serialGps], ['ble', bleSensors], ['doorbell', doorbell], ['mqtt', esp32Ingress]]
  const parts: Array<Part & { line: DemoInputReport }> = []
  const report: DemoInputReport[] = []
  for (const [name, build] of builders) {
    try {
      const part = await build({ workDir, opts })
      const line = { name, running: true, detail: part.detail }
      parts.push({ ...part, line })
      report.push(line)
    } catch (err) {
      report.push({ name, running: false, detail: err instanceof LeftOut ? err.message : `setup failed: ${(err as Error).message}` })
    }
  }
  const quietly = async (fn: (() => Promise<void> | void) | undefined): Promise<void> => {
    try {
      await fn?.()
    } catch (err) {
      opts.log.warn({ err }, 'demo input did not stop cleanly')
    }
  }
  return {
    sources: parts.map((p) => p.source),
    report,
    startDevices: async () => {
      for (const p of parts) {
        try {
          await p.start?.(p.line)
        } catch (err) {
          Object.assign(p.line, { running: false, detail: `device did not start: ${(err as Error).message}` })
        }
      }
    },
    stopDevices: async () => {
      await Promise.all(parts.map((p) => quietly(p.stop)))
    },
    cleanup: async () => {
      await Promise.all(parts.map((p) => quietly(p.cleanup)))
      await rm(workDir, { recursive: true, force: true })
    },
  }
}

/** An expected reason not to run an input (shown as is, not as a failure). */
class LeftOut extends Error {}

const componentLog = (o: DemoInputOptions, id: string): Logger => o.log.child({ component: `source:${id}` })

const serialGps: Builder = async ({ workDir, opts }) => {
  const { socatInstalled, openPtyLink } = await import('../../firmware-sim/pty-link.js')
  if (!socatInstalled()) throw new LeftOut('socat not installed (apt-get install socat)')
  const { serialSourceSchema, SerialSource } = await import('../../drivers/serial/index.js')
  const { SerialSensorSim } = await import('../../firmware-sim/serial-sensor.js')
  const pty = await openPtyLink({ deviceLink: path.join(workDir, 'gps-device'), gatewayLink: path.join(workDir, 'ttyGPS') })
  const config = serialSourceSchema.parse({ type: 'serial', id: 'gps', path: pty.b, baudRate: 9600, format: 'nmea', deviceId: 'gps-1' })
  const sim = new SerialSensorSim({ pty, format: 'nmea', intervalMs: 1000, baudRate: 9600 })
  return {
    source: new SerialSource(config, { log: componentLog(opts, 'gps'), counters: opts.metrics }),
    detail: `NMEA GPS (GGA+RMC, 1 line/s) on a socat PTY → SerialSource at ${pty.b}`,
    start: () => sim.start(),
    // Closing the device end makes socat exit (EOF on a PTY), which the gateway would log as an
    // unplug: so the sensor stops only after the gateway has closed its end.
    cleanup: async () => {
      await sim.stop()
      await pty.kill()
    },
  }
}

const bleSensors: Builder = async ({ opts }) => {
  const { bleSourceSchema, BleSource } = await import('../../drivers/ble/index.js')
  const { SimulatedBleBinding, simulatedNoble } = await import('../../firmware-sim/ble-advertiser.js')
  const { BleSensorSet, DEMO_BLE_SENSORS } = await import('../../firmware-sim/ble-sensors.js')
  const binding = new SimulatedBleBinding()
  const sensors = new BleSensorSet(binding)
  const config = bleSourceSchema.parse({ type: 'ble', id: 'ble', minIntervalMs: '5s', allow: DEMO_BLE_SENSORS.map((s) => ({ mac: s.mac })) })
  return {
    source: new BleSource(config, { log: componentLog(opts, 'ble'), counters: opts.metrics, loadNoble: async () => simulatedNoble(binding) }),
    detail: `${DEMO_BLE_SENSORS.map((s) => s.family).join(', ')} adverts (1/s, forwarded every 5 s) → simulated HCI binding → noble → BleSource`,
    start: async () => {
      sensors.advertiseRound()
      sensors.start(1000)
    },
    stop: () => sensors.stop(),
  }
}

const doorbell: Builder = async ({ opts }) => {
  const { gpioSourceSchema, GpioSource } = await import('../../drivers/gpio/index.js')
  const { FakeGpioLine, PI4_KERNEL_6_6, writeFakeGpioSysfs } = await import('../../firmware-sim/doorbell.js')
  const { DoorbellPresser } = await import('../../firmware-sim/doorbell-presser.js')
  const sysfsRoot = await writeFakeGpioSysfs(PI4_KERNEL_6_6)
  const line = new FakeGpioLine()
  const everyMs = opts.doorbellEveryMs ?? 20_000
  const presser = new DoorbellPresser(line, { everyMs })
  const config = gpioSourceSchema.parse({ type: 'gpio', id: 'doorbell', pin: 17, edge: 'rising', deviceId: 'front-door' })
  return {
    source: new GpioSource(config, { log: componentLog(opts, 'doorbell'), counters: opts.metrics, openLine: line.opener, sysfsRoot }),
    detail: `FakeGpioLine on BCM 17 (a Pi 4 sysfs tree), pressed every ~${Math.round(everyMs / 1000)} s with contact bounce → GpioSource`,
    start: async () => {
      await line.watched()
      presser.start()
    },
    stop: () => presser.stop(),
    cleanup: () => rm(sysfsRoot, { recursive: true, force: true }),
  }
}

const esp32Ingress: Builder = async ({ opts }) => {
  const { mqttIngressSourceSchema, MqttIngressSource } = await import('../../drivers/mqtt-ingress/index.js')
  const { Esp32Fleet } = await import('../../firmware-sim/esp32-fleet.js')
  const password = randomBytes(6).toString('hex')
  const devices = [1, 2].map((n) => ({ username: `esp32-${n}`, password: `${password}-${n}`, topics: ['sensors/#'] }))
  const config = mqttIngressSourceSchema.parse({
    type: 'mqtt', id: 'lan', listen: '127.0.0.1:0', devices,
    topicMap: [{ pattern: 'sensors/+/env', deviceId: '{1}', kind: 'environment' }],
  })
  const source = new MqttIngressSource(config, { log: componentLog(opts, 'lan'), counters: opts.metrics })
  const ac = new AbortController()
  let fleet: Awaited<ReturnType<typeof Esp32Fleet.connect>> | undefined
  let running: Promise<unknown> | undefined
  return {
    source,
    detail: 'MQTT ingress on loopback ← 2 simulated ESP32s (esp32-1, esp32-2), one reading each per 2 s',
    start: async (line) => {
      const health = await source.ready() // it listens on port 0: the address is known once running
      const addr = source.address()
      if (health.state !== 'running' || !addr) throw new Error(`MQTT ingress not listening: ${health.detail ?? health.state}`)
      const url = `mqtt://127.0.0.1:${addr.port}`
      line.detail = `MQTT ingress on ${url} ← 2 simulated ESP32s, one reading each per 2 s\n` +
        `publish your own: mosquitto_pub -V mqttv311 -h 127.0.0.1 -p ${addr.port} -u esp32-1 -P ${password}-1 -q 1 -t sensors/my-esp/env -m '{"temperature":20.5}'`
      fleet = await Esp32Fleet.connect({ url, username: 'esp32-{n}', password: `${password}-{n}`, devices: 2 })
      running = fleet.run({ ratePerSec: 1, signal: ac.signal }).catch((err: unknown) => opts.log.warn({ err }, 'simulated ESP32s stopped'))
    },
    stop: async () => {
      ac.abort()
      await running
      await fleet?.close()
    },
  }
}
