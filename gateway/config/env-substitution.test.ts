import { describe, expect, it } from 'vitest'
import { substituteEnv } from './env-substitution.js'

describe('substituteEnv', () => {
  const env = { A: 'alpha', B: 'beta' }

  it('replaces references in nested strings and leaves everything else alone', () => {
    const input = { x: '${env:A}', y: ['pre-${env:A}-${env:B}', 3, true, null], z: { topic: 'edge/{gatewayId}', cost: '$5' } }
    const r = substituteEnv(input, env)
    expect(r.value).toEqual({ x: 'alpha', y: ['pre-alpha-beta', 3, true, null], z: { topic: 'edge/{gatewayId}', cost: '$5' } })
    expect(r.issues).toEqual([])
    expect(r.substituted.map((s) => [s.path, s.template])).toEqual([
      [['x'], '${env:A}'],
      [['y', 0], 'pre-${env:A}-${env:B}'],
    ])
    expect(input.x).toBe('${env:A}') // the input is not modified
  })

  it('does not substitute keys', () => {
    expect(substituteEnv({ '${env:A}': 1 }, env).value).toEqual({ '${env:A}': 1 })
  })

  it('$${env:X} is the literal text, even when X is not set', () => {
    const r = substituteEnv({ v: '$${env:NOPE} and ${env:A}' }, env)
    expect(r.value).toEqual({ v: '${env:NOPE} and alpha' })
    expect(r.issues).toEqual([])
  })

  it('reports each missing variable with its path and keeps the reference', () => {
    const r = substituteEnv({ list: [{ p: '${env:X}${env:Y}' }] }, env)
    expect(r.issues).toEqual([
      { path: ['list', 0, 'p'], message: 'environment variable X is not set' },
      { path: ['list', 0, 'p'], message: 'environment variable Y is not set' },
    ])
    expect(r.value).toEqual({ list: [{ p: '${env:X}${env:Y}' }] })
  })

  it('reports malformed references', () => {
    expect(substituteEnv({ a: '${env:1BAD}' }, env).issues[0]?.message).toMatch(/not a valid reference/)
    expect(substituteEnv({ a: 'x ${env:A' }, env).issues[0]?.message).toMatch(/without a closing/)
  })

  it('keeps a __proto__ key as data', () => {
    const input = JSON.parse('{"__proto__": {"polluted": "${env:A}"}}') as unknown
    const out = substituteEnv(input, env).value as Record<string, unknown>
    expect(Object.keys(out)).toEqual(['__proto__'])
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })
})
