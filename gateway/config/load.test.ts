import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError, formatIssue, loadConfig, parseConfigText, type ConfigIssue } from './index.js'

function rejection(text: string, env: NodeJS.ProcessEnv = {}): ConfigError {
  try {
    parseConfigText(text, env, 'test.yaml')
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    return err as ConfigError
  }
  throw new Error('expected the config to be rejected')
}
const issuesOf = (text: string, env: NodeJS.ProcessEnv = {}): ConfigIssue[] => rejection(text, env).issues

const withPassword = (password: string): string => `
gateway: { id: gw1 }
uplinks:
  - type: mqtt
    id: cloud
    url: "mqtt://broker:1883"
    password: ${password}
`

describe('environment substitution', () => {
  it('substitutes a whole value and embedded references, after YAML parsing', () => {
    const text = `
gateway: { id: "gw-\${env:SITE}" }
uplinks:
  - type: mqtt
    id: c
    url: "mqtts://\${env:HOST}:8883"
    password: \${env:PW}
`
    // A secret that looks like YAML stays one string: it cannot add keys.
    const pw = 'a: b\nadmin: {enabled: false} # "x'
    const c = parseConfigText(text, { SITE: 'north', HOST: 'broker.example', PW: pw })
    expect(c.gateway.id).toBe('gw-north')
    expect(c.uplinks[0]).toMatchObject({ url: 'mqtts://broker.example:8883', password: pw })
    expect(c.admin.enabled).toBe(true)
  })

  it('reports a missing variable at its path, and only that (no follow-on schema error)', () => {
    const issues = issuesOf(`gateway: { id: gw1 }\nuplinks: [{ type: mqtt, id: c, url: "\${env:BROKER_URL}" }]\n`)
    expect(issues).toEqual([
      expect.objectContaining({ path: 'uplinks.0.url', message: 'environment variable BROKER_URL is not set', line: 2 }),
    ])
  })

  it('an unknown key whose value references a missing variable reports both', () => {
    const issues = issuesOf(withPassword('x').replace('password: x', 'pasword: ${env:PW}'))
    expect(issues.map((i) => [i.path, i.message])).toEqual([
      ['uplinks.0.pasword', 'environment variable PW is not set'],
      ['uplinks.0.pasword', 'unknown key (did you mean "password"?)'],
    ])
  })

  it('$${env:X} is a literal', () => {
    const c = parseConfigText(withPassword('"$${env:PW}"'), {})
    expect(c.uplinks[0]).toMatchObject({ password: '${env:PW}' })
  })

  it('an empty variable counts as set', () => {
    expect(parseConfigText(withPassword('${env:PW}'), { PW: '' }).uplinks[0]).toMatchObject({ password: '' })
  })

  it('never shows a substituted value in an error', () => {
    const secret = 'hunter2-very-secret'
    const err = rejection(
      `gateway: { id: gw1 }\nuplinks: [{ type: mqtt, id: c, url: "mqtt://b", maxBytes: "\${env:SECRET}", clientId: "\${env:SECRET}x", qos: 2 }]\n`,
      { SECRET: secret },
    )
    expect(err.issues.map((i) => i.path)).toEqual(['uplinks.0.qos', 'uplinks.0.maxBytes'])
    expect(err.issues[1]!.message).toContain('"${env:SECRET}" is not a size')
    expect(err.message).not.toContain(secret)
    expect(JSON.stringify(err.issues)).not.toContain(secret)
    expect(err.cause).toBeUndefined()
  })
})

describe('YAML problems', () => {
  it('a syntax error is a (root) issue with line and column', () => {
    const issues = issuesOf('gateway:\n  id: gw1\n uplinks: []\n')
    expect(issues).toHaveLength(1)
    expect(issues[0]).toMatchObject({ path: '(root)', message: expect.stringMatching(/^YAML syntax error: /), line: 3 })
    expect(formatIssue(issues[0]!)).toMatch(/\(line 3, column \d+\)$/)
  })

  it('a repeated key is an error, not "last one wins"', () => {
    expect(issuesOf('gateway: { id: a }\ngateway: { id: b }\n')[0]).toMatchObject({ path: '(root)', line: 2, message: expect.stringContaining('unique') })
  })

  it('an empty file', () => {
    expect(issuesOf('# nothing here\n')).toEqual([{ path: '(root)', message: expect.stringContaining('empty') }])
  })

  it('an alias to a missing anchor', () => {
    expect(issuesOf('gateway: *nope\n')[0]).toMatchObject({ path: '(root)' })
  })
})

describe('every problem at once', () => {
  it('reports problems from several sections and the environment together, placed on their lines', () => {
    const err = rejection(`gateway:
  id: gw1
  color: blue
store:
  maxAge: soon
sources:
  - { type: simulator, id: s, devices: 0 }
uplinks:
  - type: mqtt
    id: c
    url: "http://wrong"
    password: \${env:MQTT_PASSWORD}
log: { level: loud }
`)
    expect(err.issues.map((i) => [i.path, i.line])).toEqual([
      ['uplinks.0.password', 12],
      ['gateway.color', 3],
      ['store.maxAge', 5],
      ['sources.0.devices', 7],
      ['uplinks.0.url', 11],
      ['log.level', 13],
    ])
    expect(err.message).toMatch(/^test\.yaml: invalid config \(6 problems\)\n/)
    for (const issue of err.issues) expect(err.message).toContain(`${issue.path}: ${issue.message}`)
  })
})

describe('loadConfig', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'eg-config-'))

  it('reads a file and resolves references from the given environment', () => {
    const file = path.join(dir, 'ok.yaml')
    writeFileSync(file, withPassword('${env:PW}'))
    expect(loadConfig(file, { PW: 'x' }).uplinks[0]).toMatchObject({ password: 'x' })
  })

  it('an unreadable file is a ConfigError with the fs error as cause', () => {
    const file = path.join(dir, 'missing.yaml')
    let caught: unknown
    try {
      loadConfig(file, {})
    } catch (err) {
      caught = err
    }
    expect(caught).toBeInstanceOf(ConfigError)
    expect((caught as ConfigError).issues).toEqual([{ path: '(root)', message: 'cannot read the config file (ENOENT)' }])
    expect((caught as ConfigError).fileName).toBe(file)
    expect((caught as ConfigError).cause).toMatchObject({ code: 'ENOENT' })
  })
})
