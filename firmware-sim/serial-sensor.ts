/**
 * A simulated serial sensor on one end of a PTY pair: writes JSON lines or NMEA sentences (with
 * valid checksums) at a steady rate, like a microcontroller or GPS receiver on a USB-UART, and
 * can be unplugged and replugged. Plain Node (no vitest), so benches and demos can use it.
 *
 * The NMEA checksum is computed here independently of drivers/decoders/nmea.ts on purpose: a
 * shared helper would let one bug pass on both sides of a test.
 */
import { SerialPort } from 'serialport'

/** The PTY end the sim writes to; test/support/pty-pair.ts `PtyPair` satisfies it. */
export interface PtyEndpoint {
  readonly a: string
  kill(): Promise<void>
  restart(): Promise<void>
}

export type SensorFormat = 'jsonl' | 'nmea'

export interface SerialSensorSimOptions {
  pty: PtyEndpoint
  format: SensorFormat
  /** Pause between writes, ms; 0 = as fast as the PTY takes them. @default 100 */
  intervalMs?: number
  /** Lines per write. @default 1 */
  linesPerWrite?: number
  /** jsonl: written as the `device` field when set. */
  deviceId?: string
  /** @default 115200 (a PTY ignores it; a real UART would not) */
  baudRate?: number
  /** false: write only when told (writeLines/writeRaw), for tests that interleave bad input. @default true */
  autoWrite?: boolean
}

export class SerialSensorSim {
  private port: SerialPort | null = null
  private loop: Promise<void> | null = null
  private stopping = false
  private seq = 0
  /** Lines whose write completed (reached the kernel), and their bytes. */
  linesWritten = 0
  bytesWritten = 0

  constructor(private readonly opts: SerialSensorSimOptions) {}

  /** Opens end A and starts writing. @throws when the port cannot be opened. */
  async start(): Promise<void> {
    this.stopping = false
    this.port = await openPort(this.opts.pty.a, this.opts.baudRate ?? 115200)
    if (this.opts.autoWrite ?? true) this.loop ??= this.run()
  }

  /** Stops writing and closes the port (a blocked write is cancelled). Never rejects. */
  async stop(): Promise<void> {
    this.stopping = true
    await this.closePort()
    await this.loop
    this.loop = null
  }

  /** Stops writing and kills socat: the gateway's end loses its device. */
  async unplug(): Promise<void> {
    const port = this.port
    this.port = null
    await closeQuietly(port)
    await this.opts.pty.kill()
  }

  /** A new socat at the same link paths; reopens end A and resumes writing. */
  async replug(): Promise<void> {
    await this.opts.pty.restart()
    this.port = await openPort(this.opts.pty.a, this.opts.baudRate ?? 115200)
  }

  /** Writes bytes as they are (bad input for tests); resolves when the kernel took them. */
  async writeRaw(data: Buffer | string): Promise<void> {
    if (!this.port) throw new Error('SerialSensorSim: port is not open (unplugged or not started)')
    const bytes = typeof data === 'string' ? Buffer.from(data) : data
    await writeAll(this.port, bytes)
    this.bytesWritten += bytes.length
  }

  /** Writes the next `count` generated lines in one write; resolves when the kernel took them. */
  async writeLines(count = 1): Promise<void> {
    let text = ''
    for (let i = 0; i < count; i++) text += this.line(this.seq + i)
    await this.writeRaw(text)
    this.seq += count
    this.linesWritten += count
  }

  /** The n-th line this sim writes (0-based), with "\r\n" as most firmware sends. */
  line(n: number): string {
    return this.opts.format === 'nmea' ? nmeaLine(n) : jsonLine(n, this.opts.deviceId)
  }

  private async run(): Promise<void> {
    const interval = this.opts.intervalMs ?? 100
    const perWrite = this.opts.linesPerWrite ?? 1
    while (!this.stopping) {
      if (this.port?.isOpen) {
        try {
          await this.writeLines(perWrite)
        } catch {
          // Unplugged or stopped mid-write: the same lines are retried once a port is back.
        }
      }
      // Yield even at interval 0 so stop()/unplug() and the reader get a turn.
      await new Promise((resolve) => (interval > 0 && this.port?.isOpen ? setTimeout(resolve, interval) : setImmediate(resolve)))
      if (!this.port?.isOpen && !this.stopping) await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }

  private async closePort(): Promise<void> {
    const port = this.port
    this.port = null
    await closeQuietly(port)
  }
}

function jsonLine(n: number, deviceId?: string): string {
  const device = deviceId === undefined ? '' : `"device":${JSON.stringify(deviceId)},`
  const temp = (20 + 5 * Math.sin(n / 10)).toFixed(2)
  const hum = (45 + 10 * Math.cos(n / 15)).toFixed(1)
  return `{${device}"seq":${n},"temp":${temp},"hum":${hum}}\r\n`
}

/** Even n: GGA, odd n: RMC; one second apart per pair, position drifting north-east. */
function nmeaLine(n: number): string {
  const t = Date.UTC(2024, 5, 1, 12, 0, 0) + Math.floor(n / 2) * 1000
  const d = new Date(t)
  const two = (v: number): string => String(v).padStart(2, '0')
  const hhmmss = `${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}.00`
  const lat = `48${(7.038 + (n % 1000) * 0.0001).toFixed(4).padStart(7, '0')}`
  const lon = `011${(31 + (n % 1000) * 0.0001).toFixed(4).padStart(7, '0')}`
  const body = n % 2 === 0
    ? `GPGGA,${hhmmss},${lat},N,${lon},E,1,08,0.9,545.4,M,46.9,M,,`
    : `GPRMC,${hhmmss},A,${lat},N,${lon},E,022.4,084.4,${two(d.getUTCDate())}${two(d.getUTCMonth() + 1)}${two(d.getUTCFullYear() % 100)},003.1,W,A`
  let sum = 0
  for (let i = 0; i < body.length; i++) sum ^= body.charCodeAt(i)
  return `$${body}*${sum.toString(16).toUpperCase().padStart(2, '0')}\r\n`
}

function openPort(path: string, baudRate: number): Promise<SerialPort> {
  return new Promise((resolve, reject) => {
    const port = new SerialPort({ path, baudRate, autoOpen: false })
    // Late write errors after an unplug must not become an unhandled 'error' event.
    port.on('error', () => {})
    port.open((err) => (err ? reject(err) : resolve(port)))
  })
}

function writeAll(port: SerialPort, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => port.write(bytes, (err) => (err ? reject(err) : resolve())))
}

function closeQuietly(port: SerialPort | null): Promise<void> {
  if (!port?.isOpen) return Promise.resolve()
  return new Promise((resolve) => port.close(() => resolve()))
}
