import { describe, expect, it } from 'vitest'
import { ConfigError, parseConfigText, type ConfigIssue, type GatewayConfig } from './index.js'

const MINIMAL = `
gateway: { id: gw1 }
uplinks:
  - { type: mqtt, id: cloud, url: "mqtt://broker:1883" }
`

function parse(text: string, env: NodeJS.ProcessEnv = {}): GatewayConfig {
  return parseConfigText(text, env, 'test.yaml')
}

/** The issues of an invalid config; fails the test if it was valid. */
function issuesOf(text: string, env: NodeJS.ProcessEnv = {}): ConfigIssue[] {
  try {
    parse(text, env)
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    expect((err as ConfigError).code).toBe('GW_ERR_CONFIG')
    return (err as ConfigError).issues
  }
  throw new Error('expected the config to be rejected')
}

const paths = (issues: ConfigIssue[]): string[] => issues.map((i) => i.path)

describe('gatewayConfigSchema: defaults and parsed shape', () => {
  it('fills every default and converts units', () => {
    const c = parse(MINIMAL)
    expect(c.gateway).toEqual({ id: 'gw1', dataDir: '/var/lib/edge-gateway' })
    expect(c.store).toEqual({ maxBytes: 256 * 1024 ** 2, maxAge: 7 * 86_400_000, whenFull: 'drop_oldest' })
    expect(c.ingest).toEqual({ maxPending: 10_000, maxChunk: 1000 })
    expect(c.sources).toEqual([])
    expect(c.admin).toEqual({ enabled: true, listen: '127.0.0.1:8080', host: '127.0.0.1', port: 8080 })
    expect(c.log).toEqual({ level: 'info' })
    expect(c.uplinks[0]).toMatchObject({ type: 'mqtt', id: 'cloud', mode: 'structured', protocolVersion: 5, qos: 1, maxBytes: 262_144 })
  })

  it('parses sizes and durations given in the file (store.maxAge is milliseconds)', () => {
    const c = parse(`${MINIMAL}store: { maxBytes: 64KiB, maxAge: 90s, whenFull: block }\ningest: { maxPending: 50, maxChunk: 50 }\n`)
    expect(c.store).toEqual({ maxBytes: 65_536, maxAge: 90_000, whenFull: 'block' })
    expect(c.ingest).toEqual({ maxPending: 50, maxChunk: 50 })
  })

  it('accepts IPv6 and host-name listen addresses and splits them', () => {
    expect(parse(`${MINIMAL}admin: { listen: "[::1]:0" }`).admin).toEqual({ enabled: true, listen: '[::1]:0', host: '::1', port: 0 })
    expect(parse(`${MINIMAL}admin: { listen: "localhost:9100", enabled: false }`).admin).toMatchObject({ enabled: false, host: 'localhost', port: 9100 })
  })

  it('accepts simulator sources', () => {
    const c = parse(`${MINIMAL}sources: [{ type: simulator, id: sim, devices: 2, count: 5 }]`)
    expect(c.sources).toEqual([{ type: 'simulator', id: 'sim', devices: 2, intervalMs: 1000, count: 5, alertEvery: 0, padBytes: 0 }])
  })
})

describe('gatewayConfigSchema: each kind of problem, by path', () => {
  it('unknown key at the root, with the allowed keys', () => {
    const [issue] = issuesOf(`${MINIMAL}extra: 1\n`)
    expect(issue).toMatchObject({ path: 'extra', message: expect.stringMatching(/^unknown key \(expected one of: gateway, store,/) })
  })

  it('unknown key inside an uplink, with a suggestion', () => {
    const issues = issuesOf(`gateway: { id: gw1 }\nuplinks: [{ type: mqtt, id: c, url: "mqtt://b", pasword: x }]\n`)
    expect(issues).toEqual([expect.objectContaining({ path: 'uplinks.0.pasword', message: 'unknown key (did you mean "password"?)' })])
  })

  it('unknown key in a section', () => {
    expect(paths(issuesOf(`${MINIMAL}store: { maxbytes: 10 }\n`))).toEqual(['store.maxbytes'])
  })

  it('bad enum value', () => {
    const [issue] = issuesOf(`${MINIMAL}store: { whenFull: drop_newest }\n`)
    expect(issue).toMatchObject({ path: 'store.whenFull', message: expect.stringContaining('drop_oldest') })
  })

  it('wrong type', () => {
    const [issue] = issuesOf(`${MINIMAL}sources: [{ type: simulator, id: s, intervalMs: "fast" }]\n`)
    expect(issue).toMatchObject({ path: 'sources.0.intervalMs', message: expect.stringContaining('expected number') })
  })

  it('missing required key says "required"', () => {
    expect(issuesOf(`uplinks: [{ type: mqtt, id: c, url: "mqtt://b" }]\n`)).toEqual([expect.objectContaining({ path: 'gateway', message: 'required' })])
    expect(issuesOf(`gateway: {}\nuplinks: [{ type: mqtt, id: c, url: "mqtt://b" }]\n`)[0]).toMatchObject({ path: 'gateway.id', message: 'required' })
  })

  it('bad size string', () => {
    const [issue] = issuesOf(`${MINIMAL}store: { maxBytes: 12XB }\n`)
    expect(issue).toMatchObject({ path: 'store.maxBytes', message: expect.stringContaining('is not a size') })
  })

  it('bad duration', () => {
    const [issue] = issuesOf(`${MINIMAL}store: { maxAge: forever }\n`)
    expect(issue).toMatchObject({ path: 'store.maxAge', message: expect.stringContaining('is not a duration') })
  })

  it('duplicate source and uplink ids point at the duplicate', () => {
    const issues = issuesOf(`
gateway: { id: gw1 }
sources:
  - { type: simulator, id: a }
  - { type: simulator, id: b }
  - { type: simulator, id: a }
uplinks:
  - { type: mqtt, id: u, url: "mqtt://b" }
  - { type: mqtt, id: u, url: "mqtt://c" }
`)
    expect(issues).toEqual([
      expect.objectContaining({ path: 'sources.2.id', message: 'duplicate source id "a" (also sources.0.id)', line: 6 }),
      expect.objectContaining({ path: 'uplinks.1.id', message: 'duplicate uplink id "u" (also uplinks.0.id)', line: 9 }),
    ])
  })

  it('binary mode with protocolVersion 4', () => {
    const issues = issuesOf(`gateway: { id: gw1 }\nuplinks: [{ type: mqtt, id: c, url: "mqtt://b", mode: binary, protocolVersion: 4 }]\n`)
    expect(issues).toEqual([expect.objectContaining({ path: 'uplinks.0.mode', message: expect.stringContaining('protocolVersion 5') })])
  })

  it('unknown uplink type, and a missing one', () => {
    const issues = issuesOf(`gateway: { id: gw1 }\nuplinks: [{ type: foo, id: x }, { id: y }]\n`)
    expect(issues).toEqual([
      expect.objectContaining({ path: 'uplinks.0.type', message: 'unknown uplink type "foo" (expected one of: mqtt, eventhubs)' }),
      expect.objectContaining({ path: 'uplinks.1.type', message: 'required (one of: mqtt, eventhubs)' }),
    ])
  })

  it('unknown source type', () => {
    const [issue] = issuesOf(`${MINIMAL}sources: [{ type: zigbee, id: s }]\n`)
    expect(issue).toMatchObject({ path: 'sources.0.type', message: expect.stringMatching(/^unknown source type "zigbee" \(expected one of: simulator, gpio, mqtt, ble/) })
  })

  it('no uplinks', () => {
    expect(paths(issuesOf(`gateway: { id: gw1 }\nuplinks: []\n`))).toEqual(['uplinks'])
  })

  it('ingest.maxChunk larger than maxPending', () => {
    expect(issuesOf(`${MINIMAL}ingest: { maxPending: 10 }\n`)).toEqual([
      expect.objectContaining({ path: 'ingest.maxChunk', message: 'must not exceed ingest.maxPending (10)' }),
    ])
  })

  it.each([
    ['8080', 'is not host:port'],
    ['300.1.1.1:80', 'is not an IP address or host name'],
    ['bad_host:80', 'is not an IP address or host name'],
    ['[::zz]:80', 'is not an IPv6 address'],
    ['127.0.0.1:70000', 'out of range'],
  ])('admin.listen %s', (listen, message) => {
    expect(issuesOf(`${MINIMAL}admin: { listen: "${listen}" }\n`)).toEqual([
      expect.objectContaining({ path: 'admin.listen', message: expect.stringContaining(message) }),
    ])
  })

  it('bad log level', () => {
    expect(paths(issuesOf(`${MINIMAL}log: { level: loud }\n`))).toEqual(['log.level'])
  })

  it('a document that is not a mapping is a root problem', () => {
    expect(issuesOf('- just\n- a list\n')[0]).toMatchObject({ path: '(root)' })
  })
})
