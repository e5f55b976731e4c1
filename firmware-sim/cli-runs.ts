/**
 * What `edge-gateway simulate serial|mqtt|fleet` run: simulated devices in their own process,
 * speaking the real wire formats to a gateway that runs elsewhere. Each function runs until its
 * count is reached or `signal` aborts, prints to `out`/`err`, and returns the exit code:
 * 0 done, 1 could not start (socat missing, connection refused, not authorised) or publishes failed.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Esp32Fleet, type FleetStats } from './esp32-fleet.js'
import { pace } from './pacer.js'
import { openPtyLink, socatInstalled } from './pty-link.js'
import { SerialSensorSim, type SensorFormat } from './serial-sensor.js'

export interface RunIo {
  out(text: string): void
  err(text: string): void
  signal: AbortSignal
}

export interface SerialRunOptions {
  /** Where the gateway end of the PTY pair appears (what the serial source's `path` names). */
  link: string
  format: SensorFormat
  /** Lines per second. */
  rate: number
  /** Stop after this many lines. @default unlimited */
  count?: number
  /** jsonl: the `device` field of every line. */
  device?: string
  /** Serial speed the sensor opens with; a PTY ignores it. @default 115200 */
  baudRate?: number
}

/** A serial sensor on a socat PTY pair; prints `device path: LINK` once the gateway can open it. */
export async function runSerialSensor(opts: SerialRunOptions, io: RunIo): Promise<number> {
  if (!socatInstalled()) {
    io.err('edge-gateway simulate serial: socat is not installed (apt-get install socat); it provides the PTY pair\n')
    return 1
  }
  const link = path.resolve(opts.link)
  const dir = await mkdtemp(path.join(os.tmpdir(), 'edge-sim-serial-'))
  let pty
  try {
    pty = await openPtyLink({ deviceLink: path.join(dir, 'device'), gatewayLink: link })
  } catch (err) {
    await rm(dir, { recursive: true, force: true })
    io.err(`edge-gateway simulate serial: ${(err as Error).message}\n`)
    return 1
  }
  const baudRate = opts.baudRate ?? 115200
  const sim = new SerialSensorSim({ pty, format: opts.format, autoWrite: false, deviceId: opts.device, baudRate })
  try {
    await sim.start()
    io.out(
      [
        `simulated serial sensor: ${opts.format}, ${opts.rate} line(s)/s, on a socat PTY pair`,
        `device path: ${link}`,
        `  gateway config: { type: serial, id: sim-serial, path: ${link}, baudRate: ${baudRate}, format: ${opts.format} }`,
        '  Ctrl-C to stop.',
        '',
      ].join('\n'),
    )
    // Up to 100 lines per write when behind: a PTY (or UART) that is not read blocks the write,
    // which is the backpressure a real device sees; the achieved rate is then lower. Stopping
    // closes the port, which cancels a blocked write.
    const onAbort = (): void => void sim.stop()
    io.signal.addEventListener('abort', onAbort, { once: true })
    try {
      await pace({ ratePerSec: opts.rate, total: opts.count, maxBatch: 100, signal: io.signal }, (n) => sim.writeLines(n))
    } catch (err) {
      if (!io.signal.aborted) throw err
    } finally {
      io.signal.removeEventListener('abort', onAbort)
    }
    io.out(`stopped: ${sim.linesWritten} lines written\n`)
    return 0
  } catch (err) {
    io.err(`edge-gateway simulate serial: ${(err as Error).message}\n`)
    return 1
  } finally {
    await sim.stop()
    await pty.kill()
    await rm(dir, { recursive: true, force: true })
  }
}

export interface FleetRunOptions {
  url: string
  username?: string
  password?: string
  devices: number
  /** Messages per second over all devices. */
  totalRate: number
  /** Stop after this many messages in total. @default unlimited */
  count?: number
  /** Stop after this long, s. @default unlimited */
  durationSec?: number
  topic?: string
  /** Unacknowledged publishes per device. */
  maxInFlight: number
  /** Seconds between status lines. @default 5 */
  statusEverySec?: number
  /** Name in messages: `mqtt` or `fleet`. */
  label: string
}

/** N simulated ESP32s publishing to an MQTT ingress at a total rate; prints status and a summary. */
export async function runEsp32Fleet(opts: FleetRunOptions, io: RunIo): Promise<number> {
  const where = `edge-gateway simulate ${opts.label}`
  let fleet: Esp32Fleet
  try {
    fleet = await Esp32Fleet.connect({ ...opts, reconnectPeriodMs: 1000 })
  } catch (err) {
    io.err(`${where}: cannot connect to ${opts.url}: ${describeConnectError(err)}\n`)
    return 1
  }
  const ids = fleet.publishers.map((p) => p.clientId)
  io.out(`${where}: ${ids.length} simulated ESP32(s) connected to ${opts.url} (${ids[0]}${ids.length > 1 ? ` .. ${ids.at(-1)}` : ''}), ${opts.totalRate} msg/s in total. Ctrl-C to stop.\n`)
  const ac = new AbortController()
  const stop = (): void => ac.abort()
  io.signal.addEventListener('abort', stop, { once: true })
  const deadline = opts.durationSec !== undefined ? setTimeout(stop, opts.durationSec * 1000) : undefined
  const t0 = performance.now()
  const status = setInterval(() => io.out(`${statusLine(fleet.stats(), performance.now() - t0)}\n`), (opts.statusEverySec ?? 5) * 1000)
  let stats: FleetStats
  try {
    stats = await fleet.run({ ratePerSec: opts.totalRate, total: opts.count, signal: ac.signal })
  } finally {
    clearInterval(status)
    clearTimeout(deadline)
    io.signal.removeEventListener('abort', stop)
    await fleet.close()
  }
  io.out(`stopped: ${statusLine(stats, performance.now() - t0)}\n`)
  io.out(`${JSON.stringify({ summary: opts.label, ...stats, seconds: Math.round(performance.now() - t0) / 1000 })}\n`)
  return stats.failed > 0 ? 1 : 0
}

function statusLine(s: FleetStats, elapsedMs: number): string {
  const rate = s.acked / Math.max(0.001, elapsedMs / 1000)
  return `published ${s.published}, acked ${s.acked} (${rate.toFixed(1)}/s, stored by the gateway), failed ${s.failed}, in flight ${s.inFlight}`
}

function describeConnectError(err: unknown): string {
  const e = err as { code?: unknown; message?: string }
  // MQTT 3.1.1 CONNACK return codes (spec 3.2.2.3): 4 bad user name or password, 5 not authorised.
  if (e.code === 4 || e.code === 5) return `refused by the broker (CONNACK ${e.code}): check --username/--password and the ingress devices list`
  return e.message ?? String(err)
}
