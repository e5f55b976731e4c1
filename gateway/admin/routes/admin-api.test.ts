/**
 * The admin API routes on a real AdminServer with a fake store: parameters, Host and CSRF guards,
 * basic auth, the page's headers, and the admin config rules (loopback or a password).
 */
import http from 'node:http'
import vm from 'node:vm'
import { afterEach, describe, expect, it } from 'vitest'
import { silentLogger } from '../../core/observability.js'
import type { DeadLetter, Entry, StoreStats } from '../../core/types.js'
import { adminSectionSchema } from '../../config/index.js'
import { GatewayMetrics } from '../../telemetry/metrics.js'
import { AdminServer } from '../admin-server.js'
import { DeviceTracker } from '../device-tracker.js'
import { evaluateHealth } from '../health.js'
import { APP_JS } from '../page/app-js.js'
import { INDEX_HTML } from '../page/index-html.js'
import { createAdminApi, type AdminApi } from './admin-api.js'
import { entryView, EVENT_VIEW_MAX_BYTES } from './queue-routes.js'
import { hostNameOf } from './request-guard.js'
import { RateSampler } from './rate-sampler.js'

function entry(offset: number, json = JSON.stringify({ specversion: '1.0', type: 'io.edgegateway.environment', id: `id-${offset}` })): Entry {
  return { priority: 'telemetry', source: '/gateways/g/sim/d1', id: `id-${offset}`, json, offset, appendedMs: 1_000, sizeBytes: json.length + 40 }
}

class FakeStore {
  letters: DeadLetter[] = [{ uplink: 'up', entry: entry(7), reason: 'packet_too_large', message: 'too big', deadLetteredMs: 2_000 }]
  calls: string[] = []
  stats(): StoreStats {
    return {
      entries: 2, bytes: 200, maxBytes: 1000, oldestAgeMs: 5,
      perUplink: { up: { depth: 2, bytes: 200, oldestAgeMs: 5 }, other: { depth: 0, bytes: 0, oldestAgeMs: 0 } },
      drops: { store_full_oldest: 1, store_full_rejected: 0, expired: 0, dead_letter: 1, corrupt_entry: 0 },
      deadLetters: this.letters.length,
      leftoverClears: { ranges: 1, entries: 40 },
      blockedAppends: 3,
    }
  }
  async peek(uplink: string, limit = 100): Promise<Entry[]> {
    this.calls.push(`peek ${uplink} ${limit}`)
    return uplink === 'up' ? [entry(0), entry(1)].slice(0, limit) : []
  }
  async deadLetters(uplink: string): Promise<DeadLetter[]> {
    return this.letters.filter((l) => l.uplink === uplink)
  }
  async requeueDeadLetters(uplink: string): Promise<number> {
    this.calls.push(`requeue ${uplink}`)
    return 1
  }
  async purgeDeadLetters(uplink: string): Promise<number> {
    this.calls.push(`purge ${uplink}`)
    const n = this.letters.length
    this.letters = []
    return n
  }
}

const running = () =>
  evaluateHealth({
    pipelineRunning: true, storeOpen: true, heartbeatAgeMs: 10,
    sources: [{ id: 'sim', type: 'simulator', health: { state: 'running' } }],
    uplinks: [{ id: 'up', health: { connected: true }, disconnectedForMs: 0 }, { id: 'other', health: { connected: false, detail: 'refused' }, disconnectedForMs: 2000 }],
  })

interface Served {
  port: number
  store: FakeStore
  metrics: GatewayMetrics
}

const cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0)) await fn()
})

async function serve(opts: { auth?: { username: string; password: string }; host?: string; listen?: string } = {}): Promise<Served> {
  const store = new FakeStore()
  const metrics = new GatewayMetrics({ defaultMetrics: false })
  const devices = new DeviceTracker()
  devices.record('sim', [{ deviceId: 'd1', kind: 'environment', priority: 'telemetry', timeMs: 1, data: { t: 21 } }])
  const api: AdminApi = createAdminApi({
    gatewayId: 'g', store, metrics, health: running, devices, ingestPending: () => 0, uplinkIds: ['up', 'other'],
    access: { host: opts.host ?? '127.0.0.1', authEnabled: opts.auth !== undefined }, log: silentLogger,
  })
  const server = new AdminServer({ listen: opts.listen ?? '127.0.0.1:0', metrics, health: running, log: silentLogger, routes: api.routes, auth: opts.auth })
  api.start()
  const { port } = await server.start()
  cleanup.push(async () => {
    api.stop()
    await server.stop()
  })
  return { port, store, metrics }
}

/** node:http, so Host and every other header are exactly what the test says. */
function request(port: number, method: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      let text = ''
      res.on('data', (d: Buffer) => (text += d.toString()))
      res.on('end', () => {
        let body: unknown = text
        try {
          body = JSON.parse(text)
        } catch {
          /* not JSON: keep the text */
        }
        resolve({ status: res.statusCode!, headers: res.headers, body })
      })
    })
    req.on('error', reject)
    req.end()
  })
}

const CSRF = { 'x-edge-gateway': '1' }

describe('admin API routes', () => {
  it('GET /api/status: health, uplinks with their queue, merged drops, devices', async () => {
    const { port, metrics } = await serve()
    metrics.dropped('store_full_oldest', 3)
    metrics.dropped('store_error', 2)
    const res = await request(port, 'GET', '/api/status')
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({
      gateway: { id: 'g', version: expect.any(String) },
      health: { status: 'degraded' },
      sources: [{ id: 'sim', state: 'running' }],
      uplinks: [
        { id: 'up', connected: true, queue: { depth: 2, bytes: 200 } },
        { id: 'other', connected: false, detail: 'refused', queue: { depth: 0 } },
      ],
      store: { entries: 2, bytes: 200, deadLetters: 1, leftoverClearEntries: 40, blockedAppends: 3 },
      drops: { store_full_oldest: 3, store_full_rejected: 0, expired: 0, dead_letter: 1, store_error: 2 },
      devices: { tracked: 1, max: 1000, evicted: 0 },
    })
  })

  it('GET /api/devices: last reading and age per device', async () => {
    const { port } = await serve()
    const res = await request(port, 'GET', '/api/devices')
    expect(res.body).toMatchObject({ max: 1000, devices: [{ source: 'sim', deviceId: 'd1', kind: 'environment', data: { t: 21 }, readings: 1 }] })
    expect(res.body.devices[0].ageMs).toBeGreaterThanOrEqual(0)
  })

  it('GET /api/queue/peek: every uplink without ?uplink, one with it; limit checked', async () => {
    const { port, store } = await serve()
    const all = await request(port, 'GET', '/api/queue/peek')
    expect(all.body.uplinks.map((u: { uplink: string; depth: number }) => [u.uplink, u.depth])).toEqual([['up', 2], ['other', 0]])
    expect(all.body.uplinks[0].entries[0]).toMatchObject({ offset: 0, type: 'io.edgegateway.environment', event: { id: 'id-0' } })
    const one = await request(port, 'GET', '/api/queue/peek?uplink=up&limit=1')
    expect(one.body.uplinks).toHaveLength(1)
    expect(store.calls).toContain('peek up 1')
    expect((await request(port, 'GET', '/api/queue/peek?limit=0')).body).toMatchObject({ error: 'bad_limit' })
    expect((await request(port, 'GET', '/api/queue/peek?limit=501')).status).toBe(400)
    expect((await request(port, 'GET', '/api/queue/peek?uplink=nope')).body).toEqual({ error: 'unknown_uplink', message: 'no uplink "nope" (configured: up, other)' })
  })

  it('POST requeue/purge: need ?uplink and the CSRF header (or a JSON content type)', async () => {
    const { port, store } = await serve()
    const bare = await request(port, 'POST', '/api/queue/purge?uplink=up')
    expect(bare).toMatchObject({ status: 403, body: { error: 'csrf_header_missing' } })
    // What a cross-site HTML form can send:
    const form = await request(port, 'POST', '/api/queue/purge?uplink=up', { 'content-type': 'application/x-www-form-urlencoded' })
    expect(form.status).toBe(403)
    expect(store.calls).toEqual([])
    expect((await request(port, 'POST', '/api/queue/purge', CSRF)).body).toMatchObject({ error: 'uplink_required' })
    expect((await request(port, 'POST', '/api/queue/requeue?uplink=up', CSRF)).body).toEqual({ uplink: 'up', requeued: 1 })
    expect((await request(port, 'POST', '/api/queue/purge?uplink=up', { 'content-type': 'application/json' })).body).toEqual({ uplink: 'up', purged: 1 })
    expect(store.calls).toEqual(['requeue up', 'purge up'])
    expect((await request(port, 'GET', '/api/queue/purge?uplink=up')).status).toBe(405)
  })

  it('refuses a foreign Host (DNS rebinding) on reads, writes and the page', async () => {
    const { port, store } = await serve()
    for (const [method, path] of [['GET', '/api/status'], ['GET', '/api/devices'], ['GET', '/'], ['POST', '/api/queue/purge?uplink=up']] as const) {
      const res = await request(port, method, path, { host: `evil.example:${port}`, ...CSRF })
      expect(res.status, `${method} ${path}`).toBe(403)
      expect(res.body).toMatchObject({ error: 'forbidden_host' })
    }
    expect(store.calls).toEqual([])
    for (const host of [`localhost:${port}`, `[::1]:${port}`, '127.0.0.2']) expect((await request(port, 'GET', '/api/status', { host })).status).toBe(200)
  })

  it('accepts the configured listen host', async () => {
    const { port } = await serve({ host: 'pi.local' })
    expect((await request(port, 'GET', '/api/status', { host: `pi.local:${port}` })).status).toBe(200)
    expect((await request(port, 'GET', '/api/status', { host: `pi.other:${port}` })).status).toBe(403)
  })

  it('GET / serves the page with a strict CSP; app.js and style.css alongside', async () => {
    const { port } = await serve()
    const page = await request(port, 'GET', '/')
    expect(page.status).toBe(200)
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(page.headers['content-security-policy']).toContain("default-src 'none'")
    expect(page.headers['content-security-policy']).not.toContain('unsafe-inline')
    expect(page.body).toBe(INDEX_HTML)
    expect((await request(port, 'GET', '/app.js')).headers['content-type']).toBe('text/javascript; charset=utf-8')
    expect((await request(port, 'GET', '/style.css')).headers['content-type']).toBe('text/css; charset=utf-8')
  })
})

describe('basic auth (admin.password)', () => {
  const auth = { username: 'ops', password: 'pä55:word' }
  const basic = (u: string, p: string) => ({ authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` })

  it('401 with a challenge without or with wrong credentials, on every route', async () => {
    const { port } = await serve({ auth })
    for (const path of ['/', '/api/status', '/healthz', '/metrics', '/nowhere']) {
      const res = await request(port, 'GET', path)
      expect(res.status, path).toBe(401)
      expect(res.headers['www-authenticate']).toBe('Basic realm="edge-gateway", charset="UTF-8"')
    }
    expect((await request(port, 'GET', '/api/status', basic('ops', 'wrong'))).status).toBe(401)
    expect((await request(port, 'GET', '/api/status', basic('root', auth.password))).status).toBe(401)
    expect((await request(port, 'GET', '/api/status', { authorization: 'Bearer x' })).status).toBe(401)
  })

  it('serves with the right credentials, any Host, and still wants the CSRF header on writes', async () => {
    const { port } = await serve({ auth })
    const ok = basic(auth.username, auth.password)
    expect((await request(port, 'GET', '/api/status', { ...ok, host: 'gateway.lan:8080' })).status).toBe(200)
    expect((await request(port, 'POST', '/api/queue/requeue?uplink=up', ok)).status).toBe(403)
    expect((await request(port, 'POST', '/api/queue/requeue?uplink=up', { ...ok, ...CSRF })).status).toBe(200)
  })

  it('with auth, the server binds a non-loopback address', async () => {
    const { port } = await serve({ auth, listen: '0.0.0.0:0', host: '0.0.0.0' })
    expect((await request(port, 'GET', '/healthz', basic(auth.username, auth.password))).status).toBe(200)
  })
})

describe('admin config: username/password', () => {
  const issues = (input: unknown) => {
    const r = adminSectionSchema.safeParse(input)
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)
  }

  it('a non-loopback listen needs a password', () => {
    expect(issues({ listen: '0.0.0.0:8080' })).toEqual([expect.stringMatching(/^password: is required when admin.listen \(0\.0\.0\.0:8080\) is not a loopback address/)])
    expect(issues({ listen: '192.168.1.10:8080', enabled: false })).toEqual([])
    expect(adminSectionSchema.parse({ listen: '0.0.0.0:8080', password: 'pw' })).toEqual({
      enabled: true, listen: '0.0.0.0:8080', host: '0.0.0.0', port: 8080, username: 'admin', password: 'pw',
    })
  })

  it('username without password is an error; loopback without either is fine', () => {
    expect(issues({ username: 'ops' })).toEqual(['password: is required when admin.username is set'])
    expect(issues({ username: 'a:b', password: 'x' })).toEqual(['username: must not contain ":" or control characters'])
    expect(adminSectionSchema.parse({})).toEqual({ enabled: true, listen: '127.0.0.1:8080', host: '127.0.0.1', port: 8080 })
  })
})

describe('helpers', () => {
  it('hostNameOf', () => {
    expect(hostNameOf('127.0.0.1:8080')).toBe('127.0.0.1')
    expect(hostNameOf('LocalHost')).toBe('localhost')
    expect(hostNameOf('[::1]:80')).toBe('::1')
    expect(hostNameOf('a b')).toBeUndefined()
    expect(hostNameOf(undefined)).toBeUndefined()
  })

  it('entryView omits a large event body but keeps its type', () => {
    const big = JSON.stringify({ specversion: '1.0', type: 'io.x.big', data: 'x'.repeat(EVENT_VIEW_MAX_BYTES) })
    expect(entryView(entry(3, big), 1_500)).toEqual(expect.objectContaining({ type: 'io.x.big', truncated: true, ageMs: 500 }))
    expect(entryView(entry(3, big), 1_500).event).toBeUndefined()
  })

  it('RateSampler: a moving average over the window', () => {
    let now = 0
    const counters = { ingested: 0, forwarded: 0 }
    const rates = new RateSampler(() => counters, { now: () => now, windowMs: 5000, intervalMs: 1000 })
    expect(rates.rates()).toEqual({ inPerSec: 0, outPerSec: 0, windowMs: 0 })
    rates.sample()
    for (let s = 1; s <= 10; s++) {
      now = s * 1000
      counters.ingested += 100
      counters.forwarded += s <= 5 ? 0 : 50
      rates.sample()
    }
    // Oldest kept sample is at 5 s (window 5 s): 500 in, 250 out over 5 s.
    expect(rates.rates()).toEqual({ inPerSec: 100, outPerSec: 50, windowMs: 5000 })
  })

  it('the page script parses and uses no template literals (it lives in one)', () => {
    expect(() => new vm.Script(APP_JS, { filename: 'app.js' })).not.toThrow()
    expect(APP_JS).not.toContain('`')
  })
})
