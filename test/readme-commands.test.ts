/**
 * The README's commands work: every `edge-gateway decode …` line is run as written, and every other
 * `edge-gateway <command>` it names answers `--help` (the daemon-facing ones are exercised against a
 * real daemon in operator-cli.test.ts; install/upgrade in deploy.test.ts).
 */
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const BIN = path.join(ROOT, 'bin/edge-gateway.js')
const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8')
const commandLines = [...readme.matchAll(/^edge-gateway (.+?)(?:\s+#.*)?$/gm)].map((m) => m[1]!.trim())

/** Splits a shell line into words, honouring single quotes (enough for the README's lines). */
function words(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!)
}

describe('README commands', () => {
  it('names the operator commands', () => {
    const names = new Set(commandLines.map((l) => words(l)[0]))
    expect([...names]).toEqual(expect.arrayContaining(['config', 'decode', 'status', 'queue', 'drain']))
  })

  for (const line of commandLines.filter((l) => l.startsWith('decode '))) {
    it(`runs: edge-gateway ${line.slice(0, 60)}…`, () => {
      const r = spawnSync(process.execPath, [BIN, ...words(line)], { encoding: 'utf8' })
      expect(r.status, r.stderr).toBe(0)
      expect(JSON.parse(r.stdout)).toBeTruthy()
    })
  }

  for (const name of ['config check', 'status', 'queue peek', 'queue dead-letters', 'drain', 'simulate', 'run']) {
    it(`edge-gateway ${name} --help`, () => {
      const r = spawnSync(process.execPath, [BIN, ...name.split(' '), '--help'], { encoding: 'utf8' })
      expect(r.status, r.stderr).toBe(0)
      expect(r.stdout).toMatch(/Usage: edge-gateway/)
    })
  }
})
