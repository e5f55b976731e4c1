/** `edge-gateway store-layout`: moves a stopped gateway's queue between key layouts, refuses a running one. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Level } from 'level'
import { afterEach, describe, expect, it } from 'vitest'
import { makeEvents, readAll } from '../../../test/contract/store-contract-support.js'
import { LevelStore } from '../../store/level-store.js'
import type { CliIo } from '../context.js'
import { main } from '../main.js'

const parents: string[] = []
afterEach(() => {
  for (const p of parents.splice(0)) rmSync(p, { recursive: true, force: true })
})

/** A staging root with a config whose dataDir is /data (under the root). */
function stagingRoot(): { root: string; config: string; queue: string } {
  const root = mkdtempSync(path.join(tmpdir(), 'gw-store-layout-'))
  parents.push(root)
  const config = path.join(root, 'config.yaml')
  // The secret is never resolved: only gateway.dataDir is read.
  writeFileSync(config, 'gateway: { id: g, dataDir: /data }\nuplinks: [{ type: mqtt, id: u1, url: "mqtt://b", password: "${env:NOT_SET}" }]\n')
  mkdirSync(path.join(root, 'data'))
  return { root, config, queue: path.join(root, 'data', 'queue') }
}

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = ''
  let err = ''
  const io: CliIo = { out: (t) => void (out += t), err: (t) => void (err += t), env: {} }
  const code = await main(['node', 'edge-gateway', 'store-layout', ...args], io)
  return { code, out, err }
}

async function rawKeys(dir: string): Promise<string[]> {
  const db = new Level<string, Buffer>(dir, { keyEncoding: 'utf8', valueEncoding: 'buffer' })
  try {
    return await db.keys().all()
  } finally {
    await db.close()
  }
}

describe('store-layout command', () => {
  it('moves a queue to layout 1 and back; the gateway then reads it as before', async () => {
    const { root, config, queue } = stagingRoot()
    const store = new LevelStore({ dir: queue, maxBytes: 1e9, maxAgeMs: 1e12, uplinks: ['u1'] })
    await store.open()
    await store.append({ events: makeEvents(0, 3), counters: new Map([['src', 3]]) })
    await store.close()

    const down = await cli(['1', '--config', config, '--root', root])
    expect(down, down.err).toMatchObject({ code: 0, out: `moved 5 keys of ${queue} to layout 1\n` })
    expect((await rawKeys(queue)).filter((k) => !k.startsWith('e!'))).toEqual(['m!c', 'm!f!a', 'm!f!t', 'm!t', 's!src'])
    expect(await cli(['1', '--config', config, '--root', root])).toMatchObject({ code: 0, out: `${queue} is in layout 1: nothing to move\n` })

    expect(await cli(['2', '--config', config, '--root', root])).toMatchObject({ code: 0, out: `moved 5 keys of ${queue} to layout 2\n` })
    const again = new LevelStore({ dir: queue, maxBytes: 1e9, maxAgeMs: 1e12, uplinks: ['u1'] })
    await again.open()
    try {
      expect(await again.counters()).toEqual(new Map([['src', 3]]))
      expect((await readAll(again, 'u1')).map((e) => e.offset)).toEqual([0, 1, 2])
    } finally {
      await again.close()
    }
  })

  it('refuses a queue a running gateway holds (exit 75) and changes nothing', async () => {
    const { root, config, queue } = stagingRoot()
    const store = new LevelStore({ dir: queue, maxBytes: 1e9, maxAgeMs: 1e12, uplinks: ['u1'] })
    await store.open()
    try {
      await store.append({ events: makeEvents(0, 1), counters: new Map([['src', 1]]) })
      const r = await cli(['1', '--config', config, '--root', root])
      expect(r).toMatchObject({ code: 75, out: '' })
      expect(r.err).toContain('is in use: stop the gateway first')
    } finally {
      await store.close()
    }
    expect(await rawKeys(queue)).toContain('S!src')
  })

  it('has nothing to move without a store, and rejects a layout other than 1 or 2', async () => {
    const { root, config, queue } = stagingRoot()
    expect(await cli(['1', '--config', config, '--root', root])).toMatchObject({ code: 0, out: `no store in ${queue}: nothing to move\n` })
    const bad = await cli(['3', '--config', config, '--root', root])
    expect(bad.code).toBe(64)
    expect(bad.err).toContain('must be 1 or 2')
  })

  it('refuses a config it cannot take the data directory from (exit 78)', async () => {
    const { root } = stagingRoot()
    const fromEnv = path.join(root, 'env.yaml')
    writeFileSync(fromEnv, 'gateway: { id: g, dataDir: "${env:DATA}" }\n')
    const r = await cli(['1', '--config', fromEnv, '--root', root])
    expect(r.code).toBe(78)
    expect(r.err).toContain('gateway.dataDir: must be a plain path')
    expect(await cli(['1', '--config', path.join(root, 'missing.yaml')])).toMatchObject({ code: 78, err: expect.stringContaining('cannot read the config file (ENOENT)') })
  })
})
