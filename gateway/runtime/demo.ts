/**
 * `npm start`: the embedded demo. Simulated sensors → the real pipeline (durable store, MQTT
 * uplink) → an embedded MQTT broker on loopback, with a live status line and the exact
 * mosquitto_sub command to watch the events. Ctrl-C stops it cleanly.
 *
 * Besides the synthetic `simulator` source, simulated devices feed the REAL drivers (serial over a
 * socat PTY, BLE through noble, GPIO doorbell, ESP32s into the MQTT ingress): demo-inputs.ts. The
 * banner says which run and which were left out, and why.
 */
import path from 'node:path'
import { gatewayConfigSchema } from '../config/index.js'
import { createLogger } from '../telemetry/logger.js'
import { GatewayMetrics } from '../telemetry/metrics.js'
import { startDemoBroker } from '../../firmware-sim/demo-broker.js'
import { Gateway } from './gateway.js'
import { waitForStopSignal } from './signals.js'
import { formatStatusLine, type StatusSample } from './status-line.js'
import { setupDemoInputs, type DemoInputReport } from './demo-inputs.js'

export interface DemoOptions {
  dataDir?: string
  devices?: number
}

export async function runDemo(opts: DemoOptions = {}): Promise<number> {
  const broker = await startDemoBroker({ preferredPort: 1884 })
  const config = gatewayConfigSchema.parse({
    gateway: { id: 'demo', dataDir: path.resolve(opts.dataDir ?? 'data/demo') },
    store: { maxBytes: '64MiB', maxAge: '1d', whenFull: 'drop_oldest' },
    sources: [{ type: 'simulator', id: 'sim', devices: opts.devices ?? 5, intervalMs: 500, alertEvery: 40 }],
    // aedes speaks MQTT 3.1.1, where structured mode is the CloudEvents binding's only choice.
    uplinks: [{ type: 'mqtt', id: 'local', url: broker.url, protocolVersion: 4, mode: 'structured' }],
    admin: { listen: '127.0.0.1:0' },
    log: { level: 'warn' },
  })
  // Logs go to stderr so the status line on stdout stays readable.
  const log = createLogger({ level: config.log.level, destination: 2 })
  const metrics = new GatewayMetrics()
  const inputs = await setupDemoInputs({ log, metrics })
  const gateway = new Gateway(config, { log, metrics, extraSources: inputs.sources })
  const stopSignal = waitForStopSignal()
  await gateway.start()
  await inputs.startDevices()

  const out = process.stdout
  out.write(
    [
      'edge-gateway demo: simulated sensors → durable store → MQTT uplink → embedded broker',
      `  broker     ${broker.url} (embedded aedes, MQTT 3.1.1)`,
      `  data dir   ${config.gateway.dataDir}`,
      `  admin      http://127.0.0.1:${gateway.adminPort}/healthz  and  /metrics`,
      `  watch it:  mosquitto_sub -h 127.0.0.1 -p ${broker.port} -t 'edge/#' -v`,
      '  inputs (simulated devices → real drivers):',
      inputLine({ name: 'sim', running: true, detail: `simulator source: ${opts.devices ?? 5} synthetic devices, one reading each per 500 ms` }),
      ...inputs.report.filter((r) => r.running).map(inputLine),
      ...leftOutLines(inputs.report),
      '  Ctrl-C to stop.',
      '',
    ].join('\n'),
  )

  let prev: StatusSample | undefined
  const tick = (): void => {
    const snap = metrics.snapshot()
    const stats = gateway.store.stats()
    const sample: StatusSample = {
      atMs: Date.now(),
      ingested: snap.ingested,
      forwarded: snap.forwarded,
      queued: stats.perUplink.local?.depth ?? 0,
      dropped: snap.droppedTotal,
    }
    const line = formatStatusLine(sample, prev)
    prev = sample
    if (out.isTTY) out.write(`\r\x1b[2K${line}`)
    else out.write(`${line}\n`)
  }
  const timer = setInterval(tick, out.isTTY ? 1000 : 5000)
  await stopSignal
  clearInterval(timer)
  tick()
  out.write('\nstopping…\n')
  await inputs.stopDevices()
  await gateway.stop()
  await inputs.cleanup()
  await broker.close()
  out.write('stopped cleanly; queued events stay in the data dir and are sent next time.\n')
  return 0
}

function inputLine(r: DemoInputReport): string {
  return `    ${r.name.padEnd(9)} ${r.detail.split('\n').join(`\n${' '.repeat(14)}`)}`
}

function leftOutLines(report: DemoInputReport[]): string[] {
  const out = report.filter((r) => !r.running)
  return out.length === 0 ? [] : ['  left out:', ...out.map((r) => `    ${r.name}: left out, ${r.detail}`)]
}
