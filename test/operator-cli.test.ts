/**
 * The operator commands as an operator runs them (`node bin/edge-gateway.js status|queue|drain`)
 * against a real in-process daemon: a Gateway with its admin endpoint on a free loopback port,
 * a simulator, and an aedes broker.
 *
 * Daemon A has a connected uplink whose broker accepts at most 2048-byte packets, and a source of
 * 4 KB readings: those become dead letters, the rest flows. Daemon B's uplink points at a port
 * where no broker listens yet, so its backlog stays queued until the drain test brings one up.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DeadLettersResponse, PeekResponse, StatusResponse } from '../gateway/admin/routes/api-types.js'
import { startAedes, type AedesHandle } from './support/aedes-broker.js'
import { startTestGateway, until, type TestGateway } from './support/gateway-harness.js'
import { freePort } from './support/mosquitto.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const BIN = path.join(ROOT, 'bin/edge-gateway.js')

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

interface Child {
  /** Resolves when stderr or stdout contains `text`. */
  waitForOutput(text: string): Promise<void>
  done: Promise<Run>
}

/** Starts the real CLI; stdin is a pipe closed at once (not a terminal). No MQTT_PASSWORD. */
function start(args: string[]): Child {
  const { MQTT_PASSWORD: _drop, ...env } = process.env
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] })
  child.stdin.end()
  let stdout = ''
  let stderr = ''
  const waiters: Array<{ text: string; resolve: () => void }> = []
  const check = (): void => {
    for (const w of [...waiters]) {
      if (stdout.includes(w.text) || stderr.includes(w.text)) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve()
      }
    }
  }
  child.stdout.on('data', (d: Buffer) => ((stdout += d.toString()), check()))
  child.stderr.on('data', (d: Buffer) => ((stderr += d.toString()), check()))
  const done = new Promise<Run>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
  return {
    done,
    waitForOutput: (text) =>
      new Promise<void>((resolve, reject) => {
        waiters.push({ text, resolve })
        check()
        void done.then((r) => reject(new Error(`CLI exited (${r.code}) before printing "${text}":\n${r.stdout}${r.stderr}`)))
      }),
  }
}

const cli = (args: string[]): Promise<Run> => start(args).done

const hasScript = existsSync('/usr/bin/script') // util-linux: runs a command on a pseudo-terminal

/** Runs the CLI on a pseudo-terminal (`script`), typing `input`; output is what the terminal showed. */
function inTerminal(args: string[], input: string): Promise<Run> {
  const quote = (a: string): string => `'${a.replaceAll("'", "'\\''")}'`
  const command = [process.execPath, BIN, ...args].map(quote).join(' ')
  const child = spawn('/usr/bin/script', ['-qec', command, '/dev/null'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] })
  child.stdin.end(input)
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

let broker: AedesHandle
let a: TestGateway
let b: TestGateway
let bBrokerPort: number
let tmp: string

beforeAll(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'eg-opcli-'))
  broker = await startAedes()
  bBrokerPort = await freePort()
  ;[a, b] = await Promise.all([
    startTestGateway({
      gatewayId: 'gw-a',
      admin: true,
      sources: [
        { type: 'simulator', id: 'sim', devices: 3, intervalMs: 50 },
        { type: 'simulator', id: 'big', devices: 1, intervalMs: 0, count: 3, padBytes: 4000 },
      ],
      uplinks: [{ type: 'mqtt', id: 'up', url: broker.url, protocolVersion: 4, maxPacketBytes: 2048 }],
    }),
    startTestGateway({
      gatewayId: 'gw-b',
      admin: true,
      sources: [{ type: 'simulator', id: 'sim', devices: 2, intervalMs: 0, count: 5 }],
      uplinks: [{ type: 'mqtt', id: 'later', url: `mqtt://127.0.0.1:${bBrokerPort}`, protocolVersion: 4, reconnectMaxMs: 200 }],
    }),
  ])
  await until(() => a.gateway.store.stats().deadLetters === 3, 'daemon A has 3 dead letters')
  await until(() => b.gateway.store.stats().perUplink.later?.depth === 10, 'daemon B has a backlog of 10')
})

afterAll(async () => {
  await Promise.all([a?.dispose(), b?.dispose()])
  await broker?.close()
  rmSync(tmp, { recursive: true, force: true })
})

describe('edge-gateway status', () => {
  it('--json: sources, uplinks with queue, rates, drops by reason', async () => {
    await until(() => a.metrics.snapshot().forwarded > 50, 'daemon A forwarding')
    const r = await cli(['status', '--json', '--admin', a.adminUrl!])
    expect(r).toMatchObject({ code: 0, stderr: '' })
    const s = JSON.parse(r.stdout) as StatusResponse
    expect(s.gateway.id).toBe('gw-a')
    expect(s.sources).toEqual([
      expect.objectContaining({ id: 'sim', type: 'simulator', state: 'running' }),
      expect.objectContaining({ id: 'big', type: 'simulator', state: 'done' }),
    ])
    expect(s.uplinks).toEqual([expect.objectContaining({ id: 'up', connected: true, queue: expect.objectContaining({ depth: expect.any(Number) }) })])
    expect(s.rates.inPerSec).toBeGreaterThan(0)
    expect(s.rates.outPerSec).toBeGreaterThan(0)
    expect(s.drops).toMatchObject({ dead_letter: 3, store_full_oldest: 0, expired: 0 })
    expect(s.store.deadLetters).toBe(3)
    expect(s.devices.tracked).toBe(4)
  })

  it('human: tables of sources and uplinks, rates, drops', async () => {
    const r = await cli(['status', '--admin', a.adminUrl!])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^edge-gateway gw-a: ok {3}v\d/)
    expect(r.stdout).toMatch(/SOURCES\n {2}SOURCE +TYPE +STATE +DETAIL\n {2}sim +simulator +running\n {2}big +simulator +done/)
    expect(r.stdout).toMatch(/UPLINKS\n {2}UPLINK +STATE +QUEUED +BYTES +OLDEST +DETAIL\n {2}up +connected +\d+/)
    expect(r.stdout).toMatch(/RATES +in [\d.]+ ev\/s, out [\d.]+ ev\/s/)
    expect(r.stdout).toContain('DROPS    dead_letter 3\n')
  })

  it('finds the daemon from --config (admin.listen), reading only the admin section', async () => {
    const file = path.join(tmp, 'config.yaml')
    // The uplink password is not set in this shell: only `admin` is read, so that is fine.
    writeFileSync(file, `gateway: { id: x }\nuplinks:\n  - { type: mqtt, id: up, url: "mqtt://h", password: "\${env:MQTT_PASSWORD}" }\nadmin:\n  listen: ${new URL(a.adminUrl!).host}\n`)
    const r = await cli(['status', '--config', file])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^edge-gateway gw-a: /)
  })

  it('no daemon: a clear message and exit 69 (EX_UNAVAILABLE)', async () => {
    const port = await freePort()
    const r = await cli(['status', '--admin', `http://127.0.0.1:${port}`])
    expect(r.code).toBe(69)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe(
      `edge-gateway: no edge-gateway daemon answering at http://127.0.0.1:${port} (connection refused) — is it running? (systemctl status edge-gateway)\n`,
    )
    const file = path.join(tmp, 'down.yaml')
    writeFileSync(file, `admin: { listen: "127.0.0.1:${port}" }\n`)
    const viaConfig = await cli(['queue', 'peek', '--config', file])
    expect(viaConfig.code).toBe(69)
    expect(viaConfig.stderr).toContain(`no edge-gateway daemon answering at http://127.0.0.1:${port} (connection refused)`)
  })
})

describe('credentials (admin.password)', () => {
  it('401 becomes exit 77 with a hint; credentials from the URL or from --config work', async () => {
    const c = await startTestGateway({
      gatewayId: 'gw-c',
      admin: { password: 's3cret' },
      sources: [],
      uplinks: [{ type: 'mqtt', id: 'up', url: broker.url, protocolVersion: 4 }],
    })
    try {
      const denied = await cli(['status', '--admin', c.adminUrl!])
      expect(denied.code).toBe(77)
      expect(denied.stderr).toContain(`the admin endpoint at ${c.adminUrl} needs credentials (HTTP 401)`)
      const url = new URL(c.adminUrl!)
      const viaUrl = await cli(['status', '--admin', `http://admin:s3cret@${url.host}`])
      expect(viaUrl.stdout).toMatch(/^edge-gateway gw-c: /)
      const file = path.join(tmp, 'with-password.yaml')
      writeFileSync(file, `admin:\n  listen: ${url.host}\n  username: admin\n  password: s3cret\n`)
      const viaConfig = await cli(['queue', 'dead-letters', '--config', file])
      expect(viaConfig).toMatchObject({ code: 0, stdout: 'uplink up: 0 dead letters\n' })
    } finally {
      await c.dispose()
    }
  })
})

describe('edge-gateway queue', () => {
  it('peek: the oldest queued events of an uplink, without moving them', async () => {
    const r = await cli(['queue', 'peek', '--uplink', 'later', '--limit', '3', '--admin', b.adminUrl!])
    expect(r).toMatchObject({ code: 0, stderr: '' })
    const lines = r.stdout.trimEnd().split('\n')
    expect(lines[0]).toBe('uplink later: 10 events queued, oldest 3 shown')
    expect(lines[1]).toMatch(/^ {2}OFFSET +PRIORITY +AGE +SIZE +TYPE +SOURCE +ID$/)
    expect(lines.slice(2)).toHaveLength(3)
    expect(lines[2]).toMatch(/^ +0 +telemetry +.+io\.edgegateway\.environment +\/gateways\/gw-b\/sim\/sim-000[12] +[0-9a-f-]{36}$/)

    const json = JSON.parse((await cli(['queue', 'peek', '--json', '--limit', '20', '--admin', b.adminUrl!])).stdout) as PeekResponse
    expect(json.uplinks).toHaveLength(1)
    expect(json.uplinks[0]).toMatchObject({ uplink: 'later', depth: 10 })
    expect(json.uplinks[0]!.entries.map((e) => e.offset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    expect(json.uplinks[0]!.entries[0]!.event).toMatchObject({ specversion: '1.0', source: '/gateways/gw-b/sim/sim-0001' })
    expect(b.gateway.store.stats().perUplink.later?.depth).toBe(10)
  })

  it('dead-letters: what the uplink refused, with the reason', async () => {
    const r = await cli(['queue', 'dead-letters', '--uplink', 'up', '--admin', a.adminUrl!])
    expect(r.code).toBe(0)
    const lines = r.stdout.trimEnd().split('\n')
    expect(lines[0]).toBe('uplink up: 3 dead letters (oldest first)')
    expect(lines.slice(2)).toHaveLength(3)
    for (const line of lines.slice(2)) expect(line).toMatch(/packet_too_large +io\.edgegateway\.environment +\/gateways\/gw-a\/big\/sim-0001 .*2048/)
  })

  it('requeue: dead letters go back into the queue (and, still too large, come back)', async () => {
    const before = a.metrics.snapshot().dropped.dead_letter ?? 0
    const r = await cli(['queue', 'requeue', '--uplink', 'up', '--admin', a.adminUrl!])
    expect(r).toMatchObject({ code: 0, stdout: 'requeued 3 dead letters of uplink up\n' })
    await until(() => (a.metrics.snapshot().dropped.dead_letter ?? 0) === before + 3, 'requeued letters dead-lettered again')
    await until(() => a.gateway.store.stats().deadLetters === 3, 'three dead letters again')
  })

  it.skipIf(!hasScript)('purge on a terminal: asks first, and "n" keeps the dead letters', async () => {
    const r = await inTerminal(['queue', 'purge', '--uplink', 'up', '--admin', a.adminUrl!], 'n\n')
    expect(r.code).toBe(1)
    expect(r.stdout).toContain('Delete 3 dead letters of uplink up for good? [y/N]')
    expect(r.stdout).toContain('edge-gateway: not purged')
    expect(a.gateway.store.stats().deadLetters).toBe(3)
  })

  it('purge: refused without a terminal and without --yes; --yes deletes', async () => {
    const refused = await cli(['queue', 'purge', '--uplink', 'up', '--admin', a.adminUrl!])
    expect(refused.code).toBe(64)
    expect(refused.stderr).toContain('refusing to purge dead letters without confirmation: stdin is not a terminal; add --yes')
    expect(a.gateway.store.stats().deadLetters).toBe(3)

    const r = await cli(['queue', 'purge', '--uplink', 'up', '--yes', '--admin', a.adminUrl!])
    expect(r).toMatchObject({ code: 0, stdout: 'purged 3 dead letters of uplink up\n' })
    expect(a.gateway.store.stats().deadLetters).toBe(0)
    const json = JSON.parse((await cli(['queue', 'dead-letters', '--json', '--admin', a.adminUrl!])).stdout) as DeadLettersResponse
    expect(json).toEqual({ total: 0, uplinks: [{ uplink: 'up', deadLetters: [] }] })
  })

  it('an unknown uplink is a usage error (64) naming the configured ones', async () => {
    const r = await cli(['queue', 'requeue', '--uplink', 'nope', '--admin', a.adminUrl!])
    expect(r).toEqual({ code: 64, stdout: '', stderr: 'edge-gateway: no uplink "nope" (configured: up)\n' })
  })
})

describe('edge-gateway drain', () => {
  it('without --wait: reports the backlog, exit 75; --wait --timeout gives up with 75', async () => {
    const check = await cli(['drain', '--admin', b.adminUrl!])
    expect(check.code).toBe(75)
    expect(check.stdout).toContain('not drained: 10 events queued (later 10 (disconnected')
    const timedOut = await cli(['drain', '--wait', '--timeout', '0.5', '--admin', b.adminUrl!])
    expect(timedOut.code).toBe(75)
    expect(timedOut.stderr).toMatch(/^drain: 0% · 10 left/m)
    expect(timedOut.stderr).toMatch(/drain timed out after [\d.]+ s: 10 events still queued/)
  })

  it.skipIf(!hasScript)('--wait on a terminal: a progress bar redrawn in place', async () => {
    const r = await inTerminal(['drain', '--wait', '--timeout', '0.6', '--admin', b.adminUrl!], '')
    expect(r.code).toBe(75)
    expect(r.stdout).toMatch(/\r\x1b\[2K\[-{24}\] {3}0% 10 left · out 0 ev\/s · ETA/)
    expect(r.stdout).toContain('drain timed out')
  })

  it('--wait: shows progress, and exits 0 once a broker comes up and the backlog is forwarded', async () => {
    const child = start(['drain', '--wait', '--timeout', '30', '--admin', b.adminUrl!])
    await child.waitForOutput('drain: 0% · 10 left')
    const late = await startAedes({ port: bBrokerPort })
    try {
      const r = await child.done
      expect(r.code).toBe(0)
      expect(r.stdout).toMatch(/^drained: every uplink queue is empty \(10 events were waiting; took [\d.]+ s\)\n$/)
      expect(b.gateway.store.stats().perUplink.later?.depth).toBe(0)
    } finally {
      await b.stop()
      await late.close()
    }
  })
})
