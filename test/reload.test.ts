/**
 * Hot reload on SIGHUP, with the real CLI in a child process:
 * - an invalid file is refused: every `path: message` is logged, the gateway keeps running as is;
 * - a valid, changed file swaps the gateway: the new source is what /healthz shows, and every
 *   event accepted before the swap still arrives, including those that were waiting for a PUBACK
 *   when the store was closed and reopened.
 * The broker is an in-process aedes whose PUBACKs (authorizePublish) the test holds and releases.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { startAedes, type AedesHandle } from './support/aedes-broker.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const BIN = path.join(ROOT, 'bin/edge-gateway.js')

type LogLine = Record<string, unknown> & { msg?: string }

/** The CLI's JSON log lines, awaitable. */
class LogReader {
  readonly lines: LogLine[] = []
  private readonly waiters = new Set<() => void>()
  constructor(child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (text) => {
      try {
        this.lines.push(JSON.parse(text) as LogLine)
      } catch {
        this.lines.push({ msg: text })
      }
      for (const w of [...this.waiters]) w()
    })
  }

  /** The first line from index `from` on that matches, as soon as it is written. */
  waitFor(pred: (l: LogLine) => boolean, what: string, from = 0, timeoutMs = 20_000): Promise<LogLine> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const hit = this.lines.slice(from).find(pred)
        if (!hit) return
        this.waiters.delete(check)
        clearTimeout(timer)
        resolve(hit)
      }
      const timer = setTimeout(() => {
        this.waiters.delete(check)
        reject(new Error(`timed out waiting for ${what}; log:\n${this.lines.map((l) => JSON.stringify(l)).join('\n')}`))
      }, timeoutMs)
      this.waiters.add(check)
      check()
    })
  }
}

function configYaml(o: { dataDir: string; url: string; sourceId: string; devices: number; count: number; extra?: string }): string {
  return [
    `gateway: { id: gw-reload, dataDir: ${JSON.stringify(o.dataDir)} }`,
    `sources: [{ type: simulator, id: ${o.sourceId}, devices: ${o.devices}, count: ${o.count}, intervalMs: 5 }]`,
    // A short ack timeout: while the broker holds PUBACKs the forwarder keeps retrying, and a stop
    // does not wait long for in-flight batches (they stay in the store).
    `uplinks: [{ type: mqtt, id: up, url: "${o.url}", protocolVersion: 4, mode: structured, ackTimeoutMs: 300, maxInFlight: 2 }]`,
    'admin: { listen: "127.0.0.1:0" }',
    'log: { level: info }',
    o.extra ?? '',
  ].join('\n')
}

async function get(port: number, urlPath: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${urlPath}`)
  return { status: res.status, body: await res.text() }
}

/** Polls an async condition: the child's HTTP metrics endpoint has no event to await. */
async function untilAsync(cond: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(name))
  return line ? Number(line.split(' ').at(-1)) : 0
}

describe('SIGHUP reload (real CLI)', () => {
  let broker: AedesHandle | undefined
  let child: ChildProcess | undefined
  let dir: string | undefined
  let release: (() => void) | undefined
  afterEach(async () => {
    release?.()
    if (child && child.exitCode === null) child.kill('SIGKILL')
    await broker?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('refuses an invalid file and keeps running; applies a valid one without losing accepted events', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'eg-reload-'))
    // Held PUBACKs. On release, publishes of connections that have closed meanwhile (the old
    // gateway's) are dropped, never delivered: what arrives must have been resent from the store.
    let open = false
    const held: { client: { closed: boolean }; cb: (err: Error | null) => void }[] = []
    release = () => {
      open = true
      for (const h of held.splice(0)) if (!h.client.closed) h.cb(null)
    }
    let firstHeld!: () => void
    const publishing = new Promise<void>((resolve) => (firstHeld = resolve))
    broker = await startAedes({
      aedes: {
        authorizePublish: (client, _p, cb) => {
          if (open) return cb(null)
          held.push({ client: client as unknown as { closed: boolean }, cb })
          firstHeld()
        },
      },
    })
    // What the broker let through, by CloudEvent id (retries after the swap resend the same ids).
    const delivered = new Map<string, { source: string; sequence: string }>()
    let fortyDelivered!: () => void
    const allDelivered = new Promise<void>((resolve) => (fortyDelivered = resolve))
    broker.broker.on('publish', (packet) => {
      if (!packet.topic.startsWith('edge/')) return
      const ev = JSON.parse(packet.payload.toString()) as { id: string; source: string; sequence: string }
      delivered.set(ev.id, { source: ev.source, sequence: ev.sequence })
      if (delivered.size >= 40) fortyDelivered()
    })

    const configPath = path.join(dir, 'config.yaml')
    const base = { dataDir: path.join(dir, 'data'), url: broker.url }
    writeFileSync(configPath, configYaml({ ...base, sourceId: 'sim-a', devices: 1, count: 20 }))
    const { NOTIFY_SOCKET: _n, WATCHDOG_USEC: _w, ...env } = process.env
    child = spawn(process.execPath, [BIN, 'run', '--config', configPath], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] })
    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)))
    const log = new LogReader(child)

    const started = await log.waitFor((l) => l.msg === 'gateway started', '"gateway started"')
    const port1 = started.adminPort as number
    // All 20 readings of sim-a are on disk; none is confirmed (the broker holds every PUBACK).
    await untilAsync(async () => metric((await get(port1, '/metrics')).body, 'edge_gateway_events_ingested_total') === 20, 'sim-a: 20 ingested')
    await publishing // the uplink publishes; the broker holds its PUBACKs
    expect(delivered.size).toBe(0)

    // 1. Invalid: refused, every problem logged, same gateway (same admin port, same source).
    writeFileSync(configPath, configYaml({ ...base, sourceId: 'sim-b', devices: 2, count: 10, extra: 'store: { whenFull: sometimes }\ncolour: red' }))
    let mark = log.lines.length
    child.kill('SIGHUP')
    const refused = await log.waitFor((l) => String(l.msg).startsWith('config reload refused'), 'the refusal', mark)
    expect(refused).toMatchObject({ level: 50, code: 'GW_ERR_CONFIG', file: configPath })
    const problems = refused.problems as string[]
    expect(problems).toHaveLength(2)
    expect(problems[0]).toMatch(/^store\.whenFull: Invalid option.* \(line 6, column \d+\)$/)
    expect(problems[1]).toMatch(/^colour: unknown key \(expected one of: .*\) \(line 7, column 1\)$/)
    for (const p of problems) expect(refused.msg).toContain(p)
    const health1 = JSON.parse((await get(port1, '/healthz')).body) as { components: { sources: { id: string }[] } }
    expect(health1.components.sources.map((s) => s.id)).toEqual(['sim-a'])
    expect(log.lines.slice(mark).some((l) => l.msg === 'gateway stopping')).toBe(false)

    // 2. Valid and changed: the gateway is swapped (store closed and reopened).
    writeFileSync(configPath, configYaml({ ...base, sourceId: 'sim-b', devices: 2, count: 10 }))
    mark = log.lines.length
    child.kill('SIGHUP')
    const changed = await log.waitFor((l) => String(l.msg).startsWith('config changed'), 'the change summary', mark)
    expect(changed.changes).toEqual(['sources: added sim-b; removed sim-a'])
    const restarted = await log.waitFor((l) => l.msg === 'gateway started', 'the new gateway', mark)
    await log.waitFor((l) => l.msg === 'config reloaded', '"config reloaded"', mark)
    expect(log.lines.slice(mark).map((l) => l.msg)).toEqual(expect.arrayContaining(['gateway stopping', 'gateway stopped']))
    const port2 = restarted.adminPort as number
    const health2 = JSON.parse((await get(port2, '/healthz')).body) as { components: { sources: { id: string }[] } }
    expect(health2.components.sources.map((s) => s.id)).toEqual(['sim-b'])

    // 3. Let the broker confirm: the 20 events accepted before the swap and the 20 after arrive.
    release!()
    await allDelivered // 40 distinct events at the broker (the test's timeout bounds the wait)
    const perDevice = new Map<string, number[]>()
    for (const { source, sequence } of delivered.values()) perDevice.set(source, [...(perDevice.get(source) ?? []), Number(sequence)])
    expect([...perDevice.keys()].sort()).toEqual(['/gateways/gw-reload/sim-a/sim-0001', '/gateways/gw-reload/sim-b/sim-0001', '/gateways/gw-reload/sim-b/sim-0002'])
    const seqA = perDevice.get('/gateways/gw-reload/sim-a/sim-0001')!.sort((a, b) => a - b)
    expect(seqA).toEqual(Array.from({ length: 20 }, (_, i) => seqA[0]! + i)) // all 20, no gap
    expect(delivered.size).toBe(40)

    child.kill('SIGTERM')
    expect(await exited).toBe(0)
  })
})
