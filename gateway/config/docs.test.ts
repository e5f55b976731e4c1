/**
 * The example config and the reference must keep up with the schema: every key the schema knows
 * appears in deploy/edge-gateway.example.yaml (possibly commented out) and in deploy/README.md,
 * and the example itself is valid.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { gatewayConfigSchema, loadConfig } from './index.js'

const EXAMPLE = new URL('../../deploy/edge-gateway.example.yaml', import.meta.url)
const README = new URL('../../deploy/README.md', import.meta.url)

interface Def {
  type: string
  shape?: Record<string, { _zod: { def: Def } }>
  innerType?: { _zod: { def: Def } }
  in?: { _zod: { def: Def } }
  options?: { _zod: { def: Def } }[]
  element?: { _zod: { def: Def } }
}

/** Dotted key paths (`uplinks[].tls.ca`) of every object key reachable in a zod 4 schema. */
function keyPaths(def: Def, prefix = ''): string[] {
  switch (def.type) {
    case 'object':
      return Object.entries(def.shape ?? {}).flatMap(([k, s]) => [`${prefix}${k}`, ...keyPaths(s._zod.def, `${prefix}${k}.`)])
    case 'array':
      return keyPaths(def.element!._zod.def, prefix.replace(/\.$/, '[].'))
    case 'union':
      return [...new Set(def.options!.flatMap((o) => keyPaths(o._zod.def, prefix)))]
    case 'pipe':
      return keyPaths(def.in!._zod.def, prefix)
    case 'default':
    case 'prefault':
    case 'optional':
    case 'nullable':
      return keyPaths(def.innerType!._zod.def, prefix)
    default:
      return []
  }
}

describe('deploy/ documentation', () => {
  const keys = keyPaths((gatewayConfigSchema as unknown as { _zod: { def: Def } })._zod.def)
  const example = readFileSync(EXAMPLE, 'utf8')
  const readme = readFileSync(README, 'utf8')

  it('finds the keys (sanity check of the walker)', () => {
    expect(keys).toEqual(expect.arrayContaining(['gateway.id', 'store.maxAge', 'sources[].intervalMs', 'uplinks[].tls.ca', 'admin.listen']))
  })

  it('the example shows every key', () => {
    const missing = keys.filter((k) => !new RegExp(`^[ \\t#]*(- )?${k.split('.').pop()}:`, 'm').test(example))
    expect(missing).toEqual([])
  })

  it('the reference documents every key', () => {
    const missing = keys.filter((k) => !readme.includes(`\`${k.split('.').pop()}\``))
    expect(missing).toEqual([])
  })

  it('the example is valid when its secret is set', () => {
    const c = loadConfig(EXAMPLE.pathname, { MQTT_PASSWORD: 'example' })
    expect(c.uplinks[0]).toMatchObject({ type: 'mqtt', password: 'example' })
  })
})
