/**
 * The real CLI as an operator runs it: `node bin/edge-gateway.js ...` against the compiled dist/,
 * checking exit codes (sysexits) and what lands on stdout/stderr.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import { ConfigError, formatIssue, loadConfig } from '../gateway/config/index.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const BIN = path.join(ROOT, 'bin/edge-gateway.js')
const FIXTURES = path.join(ROOT, 'test/fixtures/configs')
const VALID = path.join(FIXTURES, 'valid.yaml')
const INVALID = path.join(FIXTURES, 'invalid.yaml')
const EXAMPLE = path.join(ROOT, 'deploy/edge-gateway.example.yaml')

interface Result {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs the CLI with a controlled environment (no MQTT_PASSWORD unless given). */
function cli(args: string[], env: Record<string, string> = {}): Promise<Result> {
  const { MQTT_PASSWORD: _drop, ...base } = process.env
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...base, ...env } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

beforeAll(() => {
  // dist/ is built once for the whole run by test/support/global-setup.ts.
  expect(existsSync(path.join(ROOT, 'dist/gateway/cli/main.js'))).toBe(true)
})

describe('edge-gateway config check', () => {
  it('a valid file: exit 0, "FILE: ok" and a summary', async () => {
    const r = await cli(['config', 'check', VALID], { MQTT_PASSWORD: 'pw', EG_TEST_DATA_DIR: '/tmp/unused' })
    expect(r).toMatchObject({ code: 0, stderr: '' })
    expect(r.stdout).toBe(`${VALID}: ok (2 sources, 1 uplink)\n`)
  })

  it('the shipped example is valid when its secret is set', async () => {
    const r = await cli(['config', 'check', EXAMPLE], { MQTT_PASSWORD: 'pw' })
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(`${EXAMPLE}: ok`)
  })

  it('an invalid file: exit 78 and every problem as one "path: message" line', async () => {
    const env = { EG_TEST_DATA_DIR: '/tmp/unused' }
    const r = await cli(['config', 'check', INVALID], env)
    expect(r.code).toBe(78)
    expect(r.stdout).toBe('')
    const lines = r.stderr.trimEnd().split('\n')
    expect(lines[0]).toBe(`${INVALID}: 9 problems`)
    const expected = [
      'uplinks.0.pasword: environment variable MQTT_PASSWORD is not set',
      'store.maxBytes: "lots" is not a size',
      'store.whenFull: Invalid option',
      'sources.0.intervalMs: Invalid input: expected number, received string',
      'uplinks.0.pasword: unknown key (did you mean "password"?)',
      'uplinks.0.mode: binary mode needs protocolVersion 5',
      'uplinks.1.type: unknown uplink type "kafka" (expected one of: mqtt, eventhubs)',
      'colour: unknown key (expected one of: gateway, store, ingest, sources, uplinks, admin, log)',
      'sources.1.id: duplicate source id "sim" (also sources.0.id)',
    ]
    expect(lines.slice(1).map((l) => expected.find((e) => l.startsWith(e)) ?? l)).toEqual(expected)
    // ... and exactly the issues the library reports, in the same words.
    const issues = (() => {
      try {
        loadConfig(INVALID, env)
      } catch (err) {
        return (err as ConfigError).issues
      }
      return []
    })()
    expect(lines.slice(1)).toEqual(issues.map(formatIssue))
  })

  it('a missing file: exit 78', async () => {
    const r = await cli(['config', 'check', path.join(FIXTURES, 'nope.yaml')])
    expect(r.code).toBe(78)
    expect(r.stderr).toContain('(root): cannot read the config file (ENOENT)')
  })
})

describe('edge-gateway run', () => {
  it('with an invalid config: exit 78 before touching anything (no data directory)', async () => {
    const dataDir = path.join(mkdtempSync(path.join(tmpdir(), 'eg-cli-')), 'data')
    const r = await cli(['run', '--config', INVALID], { EG_TEST_DATA_DIR: dataDir })
    expect(r.code).toBe(78)
    expect(r.stderr).toContain('uplinks.1.type: unknown uplink type "kafka"')
    expect(r.stdout).toBe('')
    expect(existsSync(dataDir)).toBe(false)
  })

  it('without --config: usage error 64', async () => {
    const r = await cli(['run'])
    expect(r.code).toBe(64)
    expect(r.stderr).toContain("required option '-c, --config <file>' not specified")
  })
})

describe('help, version and usage errors', () => {
  it.each([
    [['--help'], ['run', 'config', 'demo', '--version']],
    [['run', '--help'], ['--config <file>']],
    [['config', '--help'], ['check <file>']],
    [['config', 'check', '--help'], ['<file>']],
    [['demo', '--help'], ['--data-dir <dir>', '--devices <n>']],
  ])('%j exits 0 and mentions its options', async (args, mentions) => {
    const r = await cli(args)
    expect(r.code).toBe(0)
    for (const m of mentions) expect(r.stdout).toContain(m)
  })

  it('--version prints the package version', async () => {
    const r = await cli(['--version'])
    expect(r.code).toBe(0)
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/)
  })

  it.each([
    [['frobnicate'], "unknown command 'frobnicate'"],
    [['config', 'check', VALID, '--strict'], "unknown option '--strict'"],
    [['config', 'check'], "missing required argument 'file'"],
    [['demo', '--devices', 'many'], "argument 'many' is invalid"],
    [[], 'Usage: edge-gateway'],
  ])('%j is a usage error (64)', async (args, message) => {
    const r = await cli(args)
    expect(r.code).toBe(64)
    expect(r.stderr).toContain(message)
  })
})
