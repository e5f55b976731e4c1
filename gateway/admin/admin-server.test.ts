import { afterEach, describe, expect, it } from 'vitest'
import { GatewayError, silentLogger, type Logger } from '../core/index.js'
import { GatewayMetrics } from '../telemetry/metrics.js'
import { AdminServer, type AdminServerOptions } from './admin-server.js'
import { AdminHttpError } from './admin-http.js'
import { evaluateHealth, type HealthInput, type HealthReport } from './health.js'

const running: HealthInput = {
  pipelineRunning: true,
  storeOpen: true,
  heartbeatAgeMs: 100,
  sources: [{ id: 'sim', type: 'simulator', health: { state: 'running' } }],
  uplinks: [{ id: 'cloud', health: { connected: true }, disconnectedForMs: 0 }],
}

const servers: AdminServer[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()))
})

async function serve(over: Partial<AdminServerOptions> = {}): Promise<{ base: string; server: AdminServer; metrics: GatewayMetrics }> {
  const metrics = new GatewayMetrics({ defaultMetrics: false })
  const server = new AdminServer({ listen: '127.0.0.1:0', metrics, health: () => evaluateHealth(running), log: silentLogger, ...over })
  servers.push(server)
  const { port } = await server.start()
  return { base: `http://127.0.0.1:${port}`, server, metrics: (over.metrics as GatewayMetrics | undefined) ?? metrics }
}

function recordingLog(): { log: Logger; lines: Array<{ level: string; obj: unknown; msg?: string }> } {
  const lines: Array<{ level: string; obj: unknown; msg?: string }> = []
  const at = (level: string) => (obj: object | string, msg?: string) => lines.push({ level, obj, msg })
  const log: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => log }
  return { log, lines }
}

describe('AdminServer /healthz', () => {
  it('answers 200 ok with components when healthy', async () => {
    const { base } = await serve()
    const res = await fetch(`${base}/healthz`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^application\/json/)
    const body = (await res.json()) as HealthReport
    expect(body).toMatchObject({ status: 'ok', healthy: true, reasons: [] })
    expect(body.components.uplinks[0]!.id).toBe('cloud')
  })

  it('answers 200 degraded for an unavailable source', async () => {
    const input = { ...running, sources: [{ id: 'ble', type: 'ble', health: { state: 'unavailable' as const, detail: 'no adapter' } }] }
    const { base } = await serve({ health: () => evaluateHealth(input) })
    const res = await fetch(`${base}/healthz`)
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ status: 'degraded', warnings: ['source ble (ble): unavailable: no adapter'] })
  })

  it('answers 503 unhealthy with reasons', async () => {
    let input = running
    const { base } = await serve({ health: () => evaluateHealth(input) })
    input = { ...running, uplinks: [{ id: 'cloud', health: { connected: false }, disconnectedForMs: 120_000 }] }
    const res = await fetch(`${base}/healthz`)
    expect(res.status).toBe(503)
    expect(await res.json()).toMatchObject({ status: 'unhealthy', healthy: false, reasons: ['uplink cloud: disconnected for 120 s (grace 60 s)'] })
  })

  it('answers 503 when the health callback throws, and logs it', async () => {
    const { log, lines } = recordingLog()
    const { base } = await serve({ log, health: () => { throw new Error('boom') } })
    const res = await fetch(`${base}/healthz`)
    expect(res.status).toBe(503)
    expect(await res.json()).toMatchObject({ status: 'unhealthy', reasons: ['health check failed'] })
    expect(lines.some((l) => l.level === 'error' && l.msg === 'health check failed')).toBe(true)
  })
})

describe('AdminServer /metrics', () => {
  it('serves Prometheus text with counter values and callback gauges', async () => {
    const metrics = new GatewayMetrics()
    const { base } = await serve({ metrics })
    metrics.ingested('sim', 42)
    metrics.forwarded('cloud', 40)
    metrics.dropped('expired', 2)
    let depth = 7
    metrics.observeStore(() => ({
      entries: depth, bytes: 1234, maxBytes: 65536, oldestAgeMs: 2000,
      perUplink: { cloud: { depth, bytes: 1234, oldestAgeMs: 2000 } },
      drops: { store_full_oldest: 0, store_full_rejected: 0, expired: 2, dead_letter: 0, corrupt_entry: 0 },
      deadLetters: 0,
      leftoverClears: { ranges: 0, entries: 0 },
      blockedAppends: 0,
    }))
    metrics.observeUplinks(() => [{ id: 'cloud', health: { connected: true } }])
    let res = await fetch(`${base}/metrics`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe(metrics.contentType)
    let text = await res.text()
    expect(text).toContain('edge_gateway_events_ingested_total{source="sim"} 42')
    expect(text).toContain('edge_gateway_events_forwarded_total{uplink="cloud"} 40')
    expect(text).toContain('edge_gateway_events_dropped_total{reason="expired",uplink=""} 2')
    expect(text).toContain('edge_gateway_queue_depth{uplink="cloud"} 7')
    expect(text).toContain('edge_gateway_store_max_bytes 65536')
    expect(text).toContain('edge_gateway_uplink_connected{uplink="cloud"} 1')
    expect(text).toContain('process_resident_memory_bytes')

    depth = 3
    res = await fetch(`${base}/metrics`)
    text = await res.text()
    expect(text).toContain('edge_gateway_queue_depth{uplink="cloud"} 3')
  })
})

describe('AdminServer routing', () => {
  it('answers 404 JSON for unknown paths and 405 with Allow for wrong methods', async () => {
    const { base } = await serve()
    const nf = await fetch(`${base}/nope?x=1`)
    expect(nf.status).toBe(404)
    expect(await nf.json()).toEqual({ error: 'not_found', path: '/nope' })
    expect((await fetch(`${base}//healthz`)).status).toBe(404)
    const na = await fetch(`${base}/metrics`, { method: 'POST', body: 'x' })
    expect(na.status).toBe(405)
    expect(na.headers.get('allow')).toBe('GET, HEAD')
    expect(await na.json()).toMatchObject({ error: 'method_not_allowed' })
    const head = await fetch(`${base}/healthz`, { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(await head.text()).toBe('')
  })

  it('serves extra routes, maps AdminHttpError and hides other errors behind 500', async () => {
    const { log, lines } = recordingLog()
    const { base } = await serve({
      log,
      routes: {
        '/status': { GET: () => ({ status: 200, body: { queued: 3 } }) },
        '/echo': {
          POST: async (req) => {
            const text = (await req.body(16)).toString()
            if (text === 'bad') throw new AdminHttpError(400, 'bad_request', 'bad body')
            return { status: 200, headers: { 'content-type': 'text/plain' }, body: text }
          },
        },
        '/crash': { GET: () => { throw new Error('secret internals') } },
        '/bad-header': { GET: () => ({ status: 200, headers: { 'x-bad': 'a\nb' }, body: 'x' }) },
      },
    })
    expect(await (await fetch(`${base}/status`)).json()).toEqual({ queued: 3 })
    expect(await (await fetch(`${base}/echo`, { method: 'POST', body: 'hi' })).text()).toBe('hi')
    const bad = await fetch(`${base}/echo`, { method: 'POST', body: 'bad' })
    expect(bad.status).toBe(400)
    expect(await bad.json()).toEqual({ error: 'bad_request', message: 'bad body' })
    const big = await fetch(`${base}/echo`, { method: 'POST', body: 'x'.repeat(100) })
    expect(big.status).toBe(413)
    const crash = await fetch(`${base}/crash`)
    expect(crash.status).toBe(500)
    expect(await crash.text()).not.toContain('secret internals')
    expect(lines.some((l) => l.level === 'error' && l.msg === 'admin request failed')).toBe(true)
    await expect(fetch(`${base}/bad-header`)).rejects.toThrow()
    expect(lines.some((l) => l.level === 'error' && l.msg === 'admin response could not be written')).toBe(true)
    expect((await fetch(`${base}/status`)).status).toBe(200) // still serving
  })

  it('refuses to replace built-in routes', () => {
    const metrics = new GatewayMetrics({ defaultMetrics: false })
    expect(
      () => new AdminServer({ metrics, health: () => evaluateHealth(running), log: silentLogger, routes: { '/metrics': { GET: () => ({ status: 200 }) } } }),
    ).toThrow(TypeError)
  })
})

describe('AdminServer binding', () => {
  it('refuses a non-loopback address without allowRemote, with a clear logged error', async () => {
    const { log, lines } = recordingLog()
    const metrics = new GatewayMetrics({ defaultMetrics: false })
    const server = new AdminServer({ listen: '0.0.0.0:0', metrics, health: () => evaluateHealth(running), log })
    const err = await server.start().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(GatewayError)
    expect((err as GatewayError).code).toBe('GW_ERR_CONFIG')
    expect(lines.find((l) => l.level === 'error')?.msg).toMatch(/refuses to listen on non-loopback address 0\.0\.0\.0:0/)
  })

  it('binds a non-loopback address with allowRemote and warns', async () => {
    const { log, lines } = recordingLog()
    const { base } = await serve({ listen: '0.0.0.0:0', allowRemote: true, log })
    expect(lines.some((l) => l.level === 'warn')).toBe(true)
    expect((await fetch(`${base}/healthz`)).status).toBe(200)
  })

  it('rejects a malformed address and a port already in use with GW_ERR_CONFIG', async () => {
    const metrics = new GatewayMetrics({ defaultMetrics: false })
    const mk = (listen: string): AdminServer => new AdminServer({ listen, metrics, health: () => evaluateHealth(running), log: silentLogger })
    await expect(mk('nonsense').start()).rejects.toMatchObject({ code: 'GW_ERR_CONFIG' })
    const { server } = await serve()
    const port = (await server.start()).port // idempotent: same port
    await expect(mk(`127.0.0.1:${port}`).start()).rejects.toMatchObject({ code: 'GW_ERR_CONFIG', message: expect.stringContaining('EADDRINUSE') })
  })

  it('stop() closes keep-alive connections promptly and can be called twice', async () => {
    const { base, server } = await serve()
    expect((await fetch(`${base}/healthz`)).status).toBe(200) // leaves a keep-alive socket
    const t0 = Date.now()
    await server.stop()
    await server.stop()
    expect(Date.now() - t0).toBeLessThan(1500)
    await expect(fetch(`${base}/healthz`)).rejects.toThrow()
  })
})
