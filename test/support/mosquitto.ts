/**
 * A real Mosquitto broker for tests and benches: its own config in a temp dir, a random loopback
 * port, and stop / kill / restart for outage scenarios.
 *
 * Usage in a vitest file:
 * ```ts
 * import { requireMosquitto, startMosquitto, type MosquittoHandle } from './support/mosquitto.js'
 * describe.skipIf(!requireMosquitto())('against Mosquitto', () => {
 *   let broker: MosquittoHandle
 *   beforeAll(async () => { broker = await startMosquitto({ maxPacketSize: 2048 }) })
 *   afterAll(() => broker?.stop())
 *   ...
 * })
 * ```
 * `requireMosquitto()` returns false (and says so on the console) when the binary is missing
 * locally, but THROWS under CI (`CI=true`): a CI run that silently skips the broker tests would
 * report green without testing delivery.
 *
 * Readiness is awaited by connecting to the port (no fixed sleeps). Brokers still running when
 * the test process exits are SIGKILLed so none outlive a crashed run. This module must not import
 * vitest: bench/run.ts uses it too.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { accessSync, chmodSync, constants, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

export interface MosquittoOptions {
  /** Loopback port; default: a free random port (picked again if it is taken at spawn time). */
  port?: number
  /** Mosquitto `max_packet_size`, bytes; MQTT 5 clients see it as CONNACK Maximum Packet Size. */
  maxPacketSize?: number
  /**
   * Appended to the generated config, with `{dir}` replaced by the broker's temp dir, e.g.
   * `max_inflight_messages 5` or `acl_file {dir}/acl` together with `files: { acl: '...' }`.
   */
  extraConfig?: string
  /**
   * Extra files (name → content) written into the broker's temp dir before it starts, readable
   * by the `mosquitto` user (a broker started as root drops privileges before reading an
   * acl_file or password_file, so files in a private mkdtemp dir would be unreadable).
   */
  files?: Record<string, string>
  /** Give up waiting for the port after this long, ms. @default 10000 */
  startTimeoutMs?: number
  /**
   * Keep sessions and queued QoS 1 messages across stop()/restart() (saved on SIGTERM, not on
   * SIGKILL). Outage tests need it so a persistent-session subscriber misses nothing while the
   * broker is away. @default false
   */
  persistence?: boolean
}

export interface MosquittoHandle {
  readonly port: number
  /** `mqtt://127.0.0.1:PORT` */
  readonly url: string
  /** The generated config file (inspect it when a test fails). */
  readonly configPath: string
  /** Everything the broker logged so far (stderr), for failure messages. */
  logs(): string
  /** SIGTERM and await exit (Mosquitto closes client connections cleanly). Idempotent. */
  stop(): Promise<void>
  /** SIGKILL and await exit: an abrupt outage, sockets reset. Idempotent. */
  kill(): Promise<void>
  /** Stops if running, then starts again on the SAME port and awaits readiness. */
  restart(): Promise<void>
}

const CANDIDATES = ['/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto', '/opt/homebrew/sbin/mosquitto']
const running = new Set<ChildProcess>()
const tempDirs = new Set<string>()
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL')
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true })
})

/** Absolute path of the mosquitto binary (well-known locations, then PATH), or undefined. */
export function mosquittoPath(): string | undefined {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)
  for (const file of [...CANDIDATES, ...dirs.map((d) => path.join(d, 'mosquitto'))]) {
    try {
      accessSync(file, constants.X_OK)
      return file
    } catch {
      // not here
    }
  }
  return undefined
}

/** True when a mosquitto binary is installed. */
export function mosquittoAvailable(): boolean {
  return mosquittoPath() !== undefined
}

/**
 * For `describe.skipIf(!requireMosquitto())`: true when Mosquitto is installed. When it is not:
 * under CI (`process.env.CI === 'true'`) throws, so the run fails; locally logs why the suite is
 * skipped and returns false.
 */
export function requireMosquitto(): boolean {
  if (mosquittoAvailable()) return true
  const msg = 'mosquitto binary not found (apt-get install mosquitto); Mosquitto tests cannot run'
  if (process.env.CI === 'true') throw new Error(`${msg}. Failing because CI=true.`)
  console.warn(`${msg}: skipping them.`)
  return false
}

/** A port that was free a moment ago (listen on 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo
      srv.close(() => resolve(port))
    })
  })
}

function configText(port: number, opts: MosquittoOptions, dir: string): string {
  return [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    ...(opts.persistence
      ? ['persistence true', `persistence_location ${path.join(dir, 'db')}/`, 'autosave_interval 0']
      : ['persistence false']),
    // No practical cap on a subscriber's queue: with the default (1000 QoS 1 messages beyond those
    // in flight) Mosquitto silently drops messages for a test's collector that a loaded machine
    // slows down while a gateway drains a backlog at full speed, and the test then sees gaps the
    // gateway did not cause (it had its PUBACKs). Tests judge the gateway, not this broker policy.
    // Not 0 (unlimited): with 0, Mosquitto 2.0.11 closes the connection of a client whose QoS 1
    // PUBLISH an ACL denies instead of answering PUBACK 0x87 (mqtt-uplink-mosquitto.test.ts).
    'max_queued_messages 1000000',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'log_type notice',
    opts.maxPacketSize !== undefined ? `max_packet_size ${opts.maxPacketSize}` : '',
    (opts.extraConfig ?? '').replaceAll('{dir}', dir),
    '',
  ].join('\n')
}

/** Starts Mosquitto and resolves once it accepts TCP connections. */
export async function startMosquitto(opts: MosquittoOptions = {}): Promise<MosquittoHandle> {
  const bin = mosquittoPath()
  if (!bin) throw new Error('mosquitto binary not found; guard the suite with requireMosquitto()')
  const dir = mkdtempSync(path.join(os.tmpdir(), 'eg-mosquitto-'))
  tempDirs.add(dir)
  chmodSync(dir, 0o755)
  if (opts.persistence) {
    // Mosquitto started as root drops to the `mosquitto` user before writing its database.
    mkdirSync(path.join(dir, 'db'))
    chmodSync(path.join(dir, 'db'), 0o777)
  }
  for (const [name, content] of Object.entries(opts.files ?? {})) writeFileSync(path.join(dir, name), content, { mode: 0o644 })
  const configPath = path.join(dir, 'mosquitto.conf')
  const timeoutMs = opts.startTimeoutMs ?? 10_000
  let port = opts.port ?? (await freePort())
  let child: ChildProcess | undefined
  let log = ''

  const launch = async (mayChangePort: boolean): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      writeFileSync(configPath, configText(port, opts, dir))
      const proc = spawn(bin, ['-c', configPath], { stdio: ['ignore', 'ignore', 'pipe'] })
      running.add(proc)
      proc.once('exit', () => running.delete(proc))
      proc.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-65_536))) // bounded
      child = proc
      try {
        await waitForPort(port, proc, timeoutMs, () => log)
        return
      } catch (err) {
        await terminate(proc, 'SIGKILL')
        // The random port was taken between freePort() and spawn: pick another (not on restart).
        const retry = mayChangePort && attempt < 3 && /address already in use/i.test(log)
        if (!retry) throw err
        port = await freePort()
      }
    }
  }
  await launch(opts.port === undefined)
  const handle: MosquittoHandle = {
    get port() {
      return port
    },
    get url() {
      return `mqtt://127.0.0.1:${port}`
    },
    configPath,
    logs: () => log,
    stop: async () => {
      if (child) await terminate(child, 'SIGTERM')
    },
    kill: async () => {
      if (child) await terminate(child, 'SIGKILL')
    },
    restart: async () => {
      if (child) await terminate(child, 'SIGTERM')
      await launch(false) // clients reconnect to the same port: never hop to another one
    },
  }
  return handle
}

/** Sends `signal` and resolves when the process has exited (at once if it already has). */
function terminate(proc: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    proc.once('exit', () => resolve())
    proc.kill(signal)
  })
}

/** Resolves when `port` accepts a TCP connection; rejects if `proc` exits or on timeout. */
function waitForPort(port: number, proc: ChildProcess, timeoutMs: number, logs: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  return new Promise((resolve, reject) => {
    let done = false
    const onExit = (code: number | null): void => finish(new Error(`mosquitto exited (${code}) before listening on ${port}:\n${logs()}`))
    const finish = (err?: Error): void => {
      if (done) return
      done = true
      proc.off('exit', onExit)
      if (err) reject(err)
      else resolve()
    }
    proc.once('exit', onExit)
    const probe = (): void => {
      if (done) return
      const sock = net.connect({ port, host: '127.0.0.1' })
      sock.once('connect', () => {
        sock.destroy()
        finish()
      })
      sock.once('error', () => {
        sock.destroy()
        if (Date.now() > deadline) finish(new Error(`mosquitto did not listen on ${port} within ${timeoutMs} ms:\n${logs()}`))
        else setTimeout(probe, 10) // poll interval of a readiness probe, not a fixed wait
      })
    }
    probe()
  })
}
