/**
 * Salvage steps that run in child processes (leveldb-child.ts, compiled under dist/ by the test
 * setup): a repair that dies by a signal falls back to moving the store aside and copying what is
 * readable into a new one; entries lost at the front are counted; an interrupted swap completes.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Level } from 'level'
import { afterEach, describe, expect, it } from 'vitest'
import { ids, makeEvents, readAll } from '../../test/contract/store-contract-support.js'
import { silentLogger } from '../core/observability.js'
import { copyInChild, finishInterruptedRepair, runChild } from './child-salvage.js'
import { KEY_AREAS, frontKey } from './keys.js'
import { LevelStore } from './level-store.js'
import { REPAIR_MARKER } from './salvage.js'
import { SalvageFixtures } from '../../test/support/salvage-fixtures.js'
import { storeChildFaultEnv, type StoreChildFaults } from '../../test/support/store-child-faults.js'
import { isReserveFile } from './reserve-file.js'

const fx = new SalvageFixtures('gw-child-salvage-')
const newDir = (): string => fx.newDir()
const openStore = (dir: string): Promise<LevelStore> => fx.openStore(dir)
const filledStore = (dir: string, n: number): Promise<void> => fx.filledStore(dir, n, '/gateways/g/sim/dev')

/** Environment the test changed (store children inherit it), restored after each test. */
const savedEnv = new Map<string, string | undefined>()

/** Store children spawned from now on in this test fail as `faults` says (store-child-faults.ts). */
function injectChildFaults(faults: StoreChildFaults): void {
  for (const [name, value] of Object.entries(storeChildFaultEnv(faults))) {
    if (!savedEnv.has(name)) savedEnv.set(name, process.env[name])
    process.env[name] = value
  }
}

afterEach(async () => {
  for (const [name, value] of savedEnv) {
    if (value === undefined) delete process.env[name]
    else process.env[name] = value
  }
  savedEnv.clear()
  await fx.cleanup()
})

describe('salvage in child processes', () => {
  it('a repair child killed by SIGABRT (LevelDB assertion) is survived: moved aside, readable keys copied, counters kept', async () => {
    const dir = newDir()
    await filledStore(dir, 50)
    writeFileSync(join(dir, REPAIR_MARKER), 'test\n')
    injectChildFaults({ abortRepair: true })
    const store = await openStore(dir)
    expect(store.salvage.repaired).toBe(false)
    expect(store.salvage.movedAside).toMatch(/queue\.damaged-/)
    expect(existsSync(store.salvage.movedAside!)).toBe(true) // kept for the operator
    expect(store.salvage.salvagedKeys).toBeGreaterThan(50)
    expect(ids(await readAll(store, 'u1'))).toEqual(ids(makeEvents(0, 50)))
    expect((await store.counters()).get('/gateways/g/sim/dev')).toBe(50)
    // Nothing left behind but the store and the moved-aside copy.
    expect(readdirSync(join(dir, '..')).filter((f) => !isReserveFile(f)).sort()).toEqual(['queue', store.salvage.movedAside!.split('/').pop()!].sort())
  })

  it('a repair in a child replaces the store only with a verified copy and keeps nothing else around', async () => {
    const dir = newDir()
    await filledStore(dir, 20)
    writeFileSync(join(dir, REPAIR_MARKER), 'test\n')
    const store = await openStore(dir)
    expect(store.salvage.repaired).toBe(true)
    expect(existsSync(join(dir, REPAIR_MARKER))).toBe(false)
    expect(ids(await readAll(store, 'u1'))).toEqual(ids(makeEvents(0, 20)))
    expect(readdirSync(join(dir, '..')).filter((f) => !isReserveFile(f))).toEqual(['queue'])
  })

  it('entries that vanished from the front of the queue (a truncated table) are counted corrupt_entry at open', async () => {
    const dir = newDir()
    await filledStore(dir, 10)
    const db = new Level<string, Buffer>(dir, { keyEncoding: 'utf8', valueEncoding: 'buffer' })
    await db.batch([0, 1, 2].map((i) => ({ type: 'del' as const, key: `e!t!${String(i).padStart(16, '0')}` })))
    await db.close()
    const store = await openStore(dir)
    expect(store.stats().drops.corrupt_entry).toBe(3)
    expect(store.salvage.lostEntries).toBe(3)
    expect(ids(await readAll(store, 'u1'))).toEqual(ids(makeEvents(3, 7)))
  })

  it('a damaged front key (beyond the end of the log) clears nothing: every entry is kept', async () => {
    const dir = newDir()
    await filledStore(dir, 10)
    const db = new Level<string, Buffer>(dir, { keyEncoding: 'utf8', valueEncoding: 'buffer' })
    await db.put(frontKey('telemetry'), Buffer.from('9999', 'latin1')) // a wrong but well-formed number: it has no checksum
    await db.close()
    const store = await openStore(dir)
    expect(ids(await readAll(store, 'u1'))).toEqual(ids(makeEvents(0, 10)))
    expect(store.stats().drops.corrupt_entry ?? 0).toBe(0)
  })

  it('acked entries a repair brought back (their deletions lost) are not sent again', async () => {
    const dir = newDir()
    await filledStore(dir, 10)
    const first = await openStore(dir)
    await first.ack('u1', (await readAll(first, 'u1')).slice(0, 4))
    await first.close()
    // Resurrect the four deleted entries, as losing the table that held the tombstones would.
    const db = new Level<string, Buffer>(dir, { keyEncoding: 'utf8', valueEncoding: 'buffer' })
    const sample = (await db.get('e!t!0000000000000004'))!
    await db.batch([0, 1, 2, 3].map((i) => ({ type: 'put' as const, key: `e!t!${String(i).padStart(16, '0')}`, value: sample })))
    await db.del('c!u1!t') // and the cursor with them
    await db.close()
    const store = await openStore(dir)
    expect(ids(await readAll(store, 'u1'))).toEqual(ids(makeEvents(4, 6)))
    expect(store.stats().drops.corrupt_entry).toBe(0)
  })

  it('copyInChild copies every key of the store areas and leaves the source untouched', async () => {
    const src = newDir()
    await filledStore(src, 30)
    const dst = join(src, '..', 'copy')
    const before = readdirSync(src).sort()
    const copy = await copyInChild(src, dst)
    expect(copy).toMatchObject({ complete: true, failures: [] })
    expect(copy.copied).toBeGreaterThan(30)
    expect(readdirSync(src).sort()).toEqual(before)
    const store = await openStore(dst)
    expect(ids(await readAll(store, 'u1'))).toEqual(ids(makeEvents(0, 30)))
  })

  it('copyInChild copies every key the store writes, byte for byte (the child takes the key format from keys.ts)', async () => {
    const src = newDir()
    const store = new LevelStore({ dir: src, maxBytes: 1e9, maxAgeMs: 1e12, uplinks: ['u1', 'u2'] })
    await store.open()
    await store.append({ events: [...makeEvents(0, 6), ...makeEvents(6, 2, 'alert')], counters: new Map([['src-a', 7]]) })
    await store.ack('u1', await store.read('u1', 2, Infinity)) // cursors
    await store.deadLetter('u2', await store.read('u2', 1, Infinity), 'r', 'm') // a dead letter
    await store.close()
    const dst = join(src, '..', 'copy')
    expect(await copyInChild(src, dst)).toMatchObject({ complete: true, failures: [] })
    const dump = async (dir: string): Promise<Array<[string, string]>> => {
      const db = new Level<string, Buffer>(dir, { keyEncoding: 'utf8', valueEncoding: 'buffer' })
      try {
        return (await db.iterator().all()).map(([k, v]) => [k, v.toString('hex')])
      } finally {
        await db.close()
      }
    }
    const original = await dump(src)
    // Every key lies in an area of keys.ts, and the store above wrote into every area.
    expect(new Set(original.map(([k]) => KEY_AREAS.find((area) => k.startsWith(area))))).toEqual(new Set(KEY_AREAS))
    expect(await dump(dst)).toEqual(original)
  })

  it('runChild hands over each line of stdout as the child prints it (nothing is buffered until it exits)', async () => {
    const src = newDir()
    await filledStore(src, 10)
    const stalled = join(src, '..', 'stalled')
    injectChildFaults({ stallFile: stalled }) // the copy child waits after its first batch
    let firstLine!: (line: Record<string, unknown>) => void
    const seen = new Promise<Record<string, unknown>>((resolve) => (firstLine = resolve))
    let exited = false
    const run = runChild(['copy', src, join(src, '..', 'copy')], { onLine: (line) => firstLine(line) }).then((o) => ((exited = true), o))
    expect(await seen).toMatchObject({ last: expect.any(String) })
    expect(exited).toBe(false)
    await expect.poll(() => existsSync(stalled), { timeout: 30_000 }).toBe(true)
    process.kill(Number(readFileSync(stalled, 'utf8')), 'SIGKILL')
    expect(await run).toMatchObject({ signal: 'SIGKILL', last: { last: expect.any(String) } })
  })

  it('runChild reports a child that failed, with its message', async () => {
    const outcome = await runChild(['no-such-mode'])
    expect(outcome.code).toBe(1)
    expect(outcome.stderr).toMatch(/usage/)
  })

  it('finishInterruptedRepair completes a swap a crash interrupted (repaired copy present, store renamed away)', async () => {
    const dir = newDir()
    await filledStore(dir, 5)
    const { renameSync } = await import('node:fs')
    renameSync(dir, `${dir}.repaired`)
    mkdirSync(`${dir}.repairing`)
    finishInterruptedRepair(dir, silentLogger)
    expect(existsSync(`${dir}.repairing`)).toBe(false)
    const store = await openStore(dir)
    expect(ids(await readAll(store, 'u1'))).toEqual(ids(makeEvents(0, 5)))
  })
})
