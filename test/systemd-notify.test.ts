/**
 * The sd_notify protocol against a real AF_UNIX datagram socket (what systemd listens on as
 * $NOTIFY_SOCKET), served by a small python3 listener that also reports each datagram's sender
 * credentials (SO_PASSCRED) and closes passed file descriptors (systemd-notify's BARRIER=1).
 *
 * - SdNotifier: one datagram per message, in order; disabled without NOTIFY_SOCKET; failures logged.
 * - Watchdog: pings only while the heartbeat is fresh; with a real Gateway, a forwarder stuck on a
 *   PUBACK that never comes stops the pings, and they resume when it is confirmed.
 * - The real CLI under a fake "systemd": STATUS, READY=1 after start, WATCHDOG=1, RELOADING=1 and
 *   READY=1 on SIGHUP, STOPPING=1 on SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Logger } from '../gateway/core/observability.js'
import { SdNotifier } from '../gateway/runtime/sd-notify.js'
import { Watchdog, watchdogIntervalMs, type WatchdogTick } from '../gateway/runtime/watchdog.js'
import { startAedes, type AedesHandle } from './support/aedes-broker.js'
import { startTestGateway, type TestGateway } from './support/gateway-harness.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const BIN = path.join(ROOT, 'bin/edge-gateway.js')
const IS_ROOT = process.getuid?.() === 0

const LISTENER_PY = String.raw`
import array, json, os, socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
print(json.dumps({"listening": sys.argv[1]}), flush=True)
while True:
    data, anc, flags, addr = s.recvmsg(65536, socket.CMSG_SPACE(12) + socket.CMSG_SPACE(64 * 4))
    pid = None
    fds = []
    for level, kind, payload in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = struct.unpack("iII", payload[:12])[0]
        elif level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            a = array.array("i")
            a.frombytes(payload[: len(payload) - len(payload) % 4])
            fds = list(a)
    for fd in fds:
        os.close(fd)  # systemd-notify's barrier waits for this
    print(json.dumps({"pid": pid, "msg": data.decode()}), flush=True)
`

interface Datagram {
  pid: number | null
  msg: string
}

interface Listener {
  socketPath: string
  /** Every datagram except systemd-notify's BARRIER=1, in arrival order. */
  readonly messages: Datagram[]
  /** Resolves with the first message (from index `from` on) that satisfies `pred`. */
  waitFor(pred: (m: Datagram) => boolean, what: string, from?: number, timeoutMs?: number): Promise<Datagram>
  /** Resolves once `cond()` holds, re-checked on every datagram. */
  waitUntil(cond: () => boolean, what: string, timeoutMs?: number): Promise<void>
  close(): void
}

async function startListener(dir: string): Promise<Listener> {
  const socketPath = path.join(dir, 'notify.sock')
  const child = spawn('python3', ['-c', LISTENER_PY, socketPath], { stdio: ['ignore', 'pipe', 'inherit'] })
  const messages: Datagram[] = []
  const waiters = new Set<() => void>()
  let ready!: () => void
  const listening = new Promise<void>((r) => (ready = r))
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const parsed = JSON.parse(line) as Datagram & { listening?: string }
    if (parsed.listening) return ready()
    if (parsed.msg === 'BARRIER=1') return
    messages.push(parsed)
    for (const w of [...waiters]) w()
  })
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`python3 listener exited (${code})`))))
  exited.catch(() => {})
  await Promise.race([listening, exited])
  const waitFor: Listener['waitFor'] = (pred, what, from = 0, timeoutMs = 15_000) =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const hit = messages.slice(from).find(pred)
        if (!hit) return
        waiters.delete(check)
        clearTimeout(timer)
        resolve(hit)
      }
      const timer = setTimeout(() => {
        waiters.delete(check)
        reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(messages.map((m) => m.msg))}`))
      }, timeoutMs)
      waiters.add(check)
      check()
    })
  return {
    socketPath,
    messages,
    waitFor,
    async waitUntil(cond, what, timeoutMs = 15_000) {
      await waitFor(() => cond(), what, 0, timeoutMs)
    },
    close: () => void child.kill(),
  }
}

interface LogEntry {
  level: string
  obj: unknown
  msg: string | undefined
}

/** A Logger that keeps every entry and lets a test await one. */
function recordingLogger(): { log: Logger; entries: LogEntry[]; next(level: string, msgPart: string): Promise<LogEntry> } {
  const entries: LogEntry[] = []
  const waiters = new Set<(e: LogEntry) => void>()
  const at = (level: string) => (obj: object | string, msg?: string): void => {
    const e = { level, obj, msg: typeof obj === 'string' ? obj : msg }
    entries.push(e)
    for (const w of [...waiters]) w(e)
  }
  const log: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => log }
  return {
    log,
    entries,
    next: (level, msgPart) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(w)
          reject(new Error(`timed out waiting for a ${level} log "${msgPart}"`))
        }, 15_000)
        const w = (e: LogEntry): void => {
          if (e.level === level && e.msg?.includes(msgPart)) {
            waiters.delete(w)
            clearTimeout(timer)
            resolve(e)
          }
        }
        waiters.add(w)
      }),
  }
}

let dir: string
let listener: Listener

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'eg-sdn-'))
  listener = await startListener(dir)
})

afterAll(() => {
  listener?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('SdNotifier (systemd-notify) against a real datagram socket', () => {
  it('sends one datagram per message, in call order, attributed to this process when privileged', async () => {
    const from = listener.messages.length
    const { log, entries } = recordingLogger()
    const n = new SdNotifier({ env: { ...process.env, NOTIFY_SOCKET: listener.socketPath }, log })
    expect(n.enabled).toBe(true)
    const results = await Promise.all([n.status('starting'), n.ready('running: 1 source\nsecond line'), n.watchdog(), n.stopping()])
    expect(results).toEqual([true, true, true, true])
    await listener.waitFor((m) => m.msg.startsWith('STOPPING=1'), 'STOPPING=1', from)
    expect(listener.messages.slice(from).map((m) => m.msg)).toEqual([
      'STATUS=starting',
      'READY=1\nSTATUS=running: 1 source second line', // a newline would split the assignment
      'WATCHDOG=1',
      'STOPPING=1',
    ])
    // systemd-notify claims its parent (us) as sender; the kernel lets only a privileged process
    // do that, otherwise it is systemd-notify's own PID, hence NotifyAccess=all in the unit.
    for (const m of listener.messages.slice(from)) {
      if (IS_ROOT) expect(m.pid).toBe(process.pid)
      else expect(m.pid).not.toBe(process.pid)
    }
    expect(entries).toEqual([])
  })

  it('coalesces watchdog pings that queue up behind a slow message', async () => {
    const from = listener.messages.length
    const n = new SdNotifier({ env: { ...process.env, NOTIFY_SOCKET: listener.socketPath }, log: recordingLogger().log })
    const status = n.status('busy')
    const pings = [n.watchdog({ STATUS: 'a' }), n.watchdog({ STATUS: 'b' }), n.watchdog({ STATUS: 'c' })]
    expect(pings[1]).toBe(pings[0])
    await Promise.all([status, ...pings])
    await n.status('done')
    await listener.waitFor((m) => m.msg === 'STATUS=done', 'STATUS=done', from)
    // One ping, with the newest fields.
    expect(listener.messages.slice(from).map((m) => m.msg)).toEqual(['STATUS=busy', 'WATCHDOG=1\nSTATUS=c', 'STATUS=done'])
  })

  it('is disabled without NOTIFY_SOCKET (not started by systemd): nothing is sent', async () => {
    const { log, entries } = recordingLogger()
    const n = new SdNotifier({ env: {}, log, command: '/nonexistent/systemd-notify' })
    expect(n.enabled).toBe(false)
    expect(await n.ready('x')).toBe(false)
    expect(await n.watchdog()).toBe(false)
    expect(entries).toEqual([])
  })

  it('logs a failed notification (rate-limited) and never throws', async () => {
    const { log, entries } = recordingLogger()
    const n = new SdNotifier({ env: { NOTIFY_SOCKET: listener.socketPath }, log, command: '/nonexistent/systemd-notify' })
    expect(await n.ready()).toBe(false)
    expect(await n.watchdog()).toBe(false)
    expect(entries).toHaveLength(1)
    expect(entries[0]).toMatchObject({ level: 'error', msg: expect.stringContaining('sd_notify failed') })
    expect(entries[0]!.obj).toMatchObject({ message: ['READY'] })
  })
})

describe('Watchdog', () => {
  it('reads WATCHDOG_USEC like sd_watchdog_enabled(3), honouring WATCHDOG_PID', () => {
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '120000000' }, 42)).toBe(120_000)
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '120000000', WATCHDOG_PID: '42' }, 42)).toBe(120_000)
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '120000000', WATCHDOG_PID: '41' }, 42)).toBeUndefined() // inherited by a child
    expect(watchdogIntervalMs({}, 42)).toBeUndefined()
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '0' }, 42)).toBeUndefined()
    expect(watchdogIntervalMs({ WATCHDOG_USEC: 'soon' }, 42)).toBeUndefined()
  })

  it('pings (WATCHDOG=1 with STATUS) only while the heartbeat is younger than the interval, and says why it withholds', async () => {
    const from = listener.messages.length
    const { log, entries } = recordingLogger()
    const n = new SdNotifier({ env: { ...process.env, NOTIFY_SOCKET: listener.socketPath }, log })
    let age = 100
    const wd = new Watchdog({ intervalMs: 1000, heartbeatAgeMs: () => age, ping: (f) => n.watchdog(f), status: () => `age ${age}`, log })
    const ticks: WatchdogTick[] = [wd.tick()]
    await n.flush() // (back-to-back pings would be coalesced into one datagram)
    age = 1000 // as old as the interval: stale
    ticks.push(wd.tick())
    age = 50_000
    ticks.push(wd.tick())
    age = 10
    ticks.push(wd.tick())
    expect(ticks).toEqual(['pinged', 'withheld', 'withheld', 'pinged'])
    await n.status('end')
    await listener.waitFor((m) => m.msg === 'STATUS=end', 'STATUS=end', from)
    // The withheld ticks sent nothing: only the two pings precede the marker.
    expect(listener.messages.slice(from).map((m) => m.msg)).toEqual(['WATCHDOG=1\nSTATUS=age 100', 'WATCHDOG=1\nSTATUS=age 10', 'STATUS=end'])
    expect(entries.map((e) => [e.level, e.obj])).toEqual([
      ['warn', { heartbeatAgeMs: 1000, watchdogMs: 1000 }],
      ['warn', { heartbeatAgeMs: 50_000, watchdogMs: 1000 }],
      ['info', { heartbeatAgeMs: 10, watchdogMs: 1000 }],
    ])
    expect(entries[0]!.msg).toContain('withholding the systemd watchdog ping')
  })

  describe('driven by a real Gateway', () => {
    let broker: AedesHandle | undefined
    let gw: TestGateway | undefined
    let release: (() => void) | undefined
    afterEach(async () => {
      release?.()
      await gw?.dispose()
      await broker?.close()
    })

    it('stops pinging while a forwarder waits for a PUBACK that never comes, and resumes once it is confirmed', async () => {
      const gate = new Promise<void>((r) => (release = r))
      broker = await startAedes({ aedes: { authorizePublish: (_c, _p, cb) => void gate.then(() => cb(null)) } })
      gw = await startTestGateway({
        sources: [{ type: 'simulator', id: 'sim', devices: 1, count: 3, intervalMs: 10 }],
        // One batch in flight, and an ack timeout far beyond the watchdog interval: the loop waits.
        uplinks: [{ type: 'mqtt', id: 'up', url: broker.url, protocolVersion: 4, mode: 'structured', maxInFlight: 1, lingerMs: 0, ackTimeoutMs: 600_000 }],
      })
      const recorder = recordingLogger()
      let pings = 0
      // 1.5 s: above the 1 s idle tick of the pipeline loops, so an idle gateway stays fresh.
      const wd = new Watchdog({ intervalMs: 1500, heartbeatAgeMs: () => gw!.gateway.heartbeatAgeMs(), ping: async () => (++pings, true), log: recorder.log })
      const withheld = recorder.next('warn', 'withholding')
      wd.start()
      try {
        expect(pings).toBe(1) // fresh at start
        const w = await withheld
        expect((w.obj as { heartbeatAgeMs: number }).heartbeatAgeMs).toBeGreaterThanOrEqual(1500)
        const pingsWhileStuck = pings
        const resumed = recorder.next('info', 'pings resumed')
        release!()
        await resumed
        expect(pings).toBe(pingsWhileStuck + 1)
      } finally {
        await wd.stop()
      }
    })
  })
})

describe('the real CLI under a notify socket', () => {
  let broker: AedesHandle | undefined
  let child: ChildProcess | undefined
  afterEach(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL')
    await broker?.close()
  })

  it('STATUS, READY=1 after start, WATCHDOG=1 pings, RELOADING/READY on SIGHUP, STOPPING=1 on SIGTERM', async () => {
    broker = await startAedes()
    const configPath = path.join(dir, 'config.yaml')
    writeFileSync(
      configPath,
      [
        'gateway: { id: gw-notify, dataDir: ' + JSON.stringify(path.join(dir, 'data')) + ' }',
        'sources: [{ type: simulator, id: sim, devices: 2, intervalMs: 50 }]',
        `uplinks: [{ type: mqtt, id: up, url: "${broker.url}", protocolVersion: 4, mode: structured }]`,
        'admin: { listen: "127.0.0.1:0" }',
        'log: { level: warn }',
      ].join('\n'),
    )
    const from = listener.messages.length
    const { NOTIFY_SOCKET: _n, WATCHDOG_USEC: _w, WATCHDOG_PID: _p, ...env } = process.env
    // 3 s: pings every 1.5 s, and the pipeline's 1 s idle heartbeat is always fresher than 3 s.
    child = spawn(process.execPath, [BIN, 'run', '--config', configPath], {
      cwd: ROOT,
      env: { ...env, NOTIFY_SOCKET: listener.socketPath, WATCHDOG_USEC: '3000000' },
      stdio: ['ignore', 'inherit', 'inherit'],
    })
    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)))

    const readyMsg = await listener.waitFor((m) => m.msg.startsWith('READY=1'), 'READY=1', from)
    const ready = listener.messages.indexOf(readyMsg)
    const pingsSinceReady = (): number => listener.messages.slice(ready).filter((m) => m.msg.startsWith('WATCHDOG=1')).length
    await listener.waitUntil(() => pingsSinceReady() >= 2, 'two WATCHDOG=1 pings')

    child.kill('SIGHUP') // same file: reloads nothing, but goes through RELOADING=1 → READY=1
    const reloading = await listener.waitFor((m) => m.msg.startsWith('RELOADING=1'), 'RELOADING=1', ready + 1)
    // CLOCK_MONOTONIC in µs, the clock systemd compares it with (hrtime reads the same clock).
    const monotonicMs = Number(/MONOTONIC_USEC=(\d+)/.exec(reloading.msg)![1]) / 1000
    expect(Math.abs(monotonicMs - Number(process.hrtime.bigint() / 1_000_000n))).toBeLessThan(10_000)
    await listener.waitFor((m) => m.msg.startsWith('READY=1'), 'READY=1 after the reload', listener.messages.indexOf(reloading) + 1)

    child.kill('SIGTERM')
    await listener.waitFor((m) => m.msg.startsWith('STOPPING=1'), 'STOPPING=1', from)
    expect(await exited).toBe(0)

    const got = listener.messages.slice(from)
    const lifecycle = got
      .filter((m) => !m.msg.startsWith('WATCHDOG=1'))
      .map((m) => m.msg.replace(/\nSTATUS=running: .*/, '\nSTATUS=running: …').replace(/MONOTONIC_USEC=\d+/, 'MONOTONIC_USEC=…'))
    expect(lifecycle).toEqual([
      'STATUS=starting',
      'READY=1\nSTATUS=running: …',
      'RELOADING=1\nMONOTONIC_USEC=…\nSTATUS=reloading configuration',
      'READY=1\nSTATUS=running: …',
      'STOPPING=1\nSTATUS=stopping',
    ])
    expect(got.find((m) => m.msg.startsWith('READY=1'))!.msg).toMatch(/^READY=1\nSTATUS=running: 1 source, 1 uplink \| in \d+ \| forwarded \d+ \| queued \d+ \| dropped 0$/)
    // Pings only between READY=1 and STOPPING=1, each with the live status.
    const pings = got.map((m, i) => [m.msg, i] as const).filter(([m]) => m.startsWith('WATCHDOG=1'))
    expect(pings.length).toBeGreaterThanOrEqual(2)
    for (const [msg, i] of pings) {
      expect(i).toBeGreaterThan(ready - from)
      expect(msg).toMatch(/^WATCHDOG=1\nSTATUS=(running: |reloading)/)
    }
    if (IS_ROOT) for (const m of got) expect(m.pid).toBe(child.pid) // the main PID, as systemd expects
  })
})
