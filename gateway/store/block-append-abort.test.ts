/**
 * whenFull=block, stopped part-way: a split append whose signal aborts after some parts were
 * committed must say what it committed. Those parts are durable and will be delivered; a caller
 * that counted them as dropped would report drops that did not happen. It also says which events
 * were refused and which the failure lost, by batch index: neither need be at the batch's end,
 * and a caller attributes each event to whoever offered it. Real LevelDB.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ids, makeEvent, makeEvents, noCounters } from '../../test/contract/store-contract-support.js'
import type { NewEvent } from '../core/types.js'
import { PartialAppendError } from '../core/errors.js'
import { LevelStore } from './level-store.js'

const dirs: string[] = []
const stores: LevelStore[] = []

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close().catch(() => undefined)
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

async function openStore(maxBytes: number): Promise<LevelStore> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-block-abort-'))
  dirs.push(dir)
  const store = new LevelStore({ dir, maxBytes, maxAgeMs: 1e12, whenFull: 'block', uplinks: ['u1'] })
  stores.push(store)
  await store.open()
  return store
}

/** Bytes one `makeEvent` takes in the store (all of them have the same size). */
async function entryBytes(): Promise<number> {
  const store = await openStore(1e9)
  await store.append({ events: [makeEvent(0)], counters: noCounters() })
  return store.stats().bytes
}

/** Starts `append` and resolves with its rejection once the store committed one batch and `abort` fired. */
async function appendAbortedAfterOneCommit(store: LevelStore, events: NewEvent[]): Promise<unknown> {
  const abort = new AbortController()
  const committed = store.waitForAppend(AbortSignal.timeout(10_000)) // registered before the append
  const pending = store.append({ events, counters: noCounters() }, abort.signal).then(
    (result) => ({ resolved: result }),
    (err: unknown) => err,
  )
  await committed
  abort.abort()
  return pending
}

/** Starts `append` and resolves with its rejection once the store committed one batch and then closed. */
async function appendClosedAfterOneCommit(store: LevelStore, events: NewEvent[]): Promise<unknown> {
  const committed = store.waitForAppend(AbortSignal.timeout(10_000))
  const pending = store.append({ events, counters: noCounters() }).then(
    (result) => ({ resolved: result }),
    (err: unknown) => err,
  )
  await committed
  await store.close()
  return pending
}

const drops = (store: LevelStore): Array<[string, number]> => Object.entries(store.stats().drops).filter(([, n]) => n > 0)

describe('whenFull=block, aborted after part of an append was committed', () => {
  it('rejects GW_ERR_STORE_FULL carrying the committed part; the store holds exactly that part', async () => {
    const size = await entryBytes()
    const store = await openStore(size * 3)
    const events = makeEvents(0, 5) // parts of 3 and 2: the first fits the empty store, the second waits
    const oversize: NewEvent = { ...makeEvent(5), json: JSON.stringify({ pad: 'x'.repeat(size * 4) }) }
    const err = await appendAbortedAfterOneCommit(store, [...events.slice(0, 2), oversize, ...events.slice(2)])
    // The oversize event (index 2) was refused at once (store_full_rejected), not lost in the abort;
    // the stored part is indices 0, 1 and 3, the waiting one 4 and 5.
    expect(err).toMatchObject({ code: 'GW_ERR_STORE_FULL', committed: { accepted: 3, rejected: 1, evicted: 0, refused: [2] }, lost: [4, 5] })
    expect(ids(await store.peek('u1', 100))).toEqual(ids(events.slice(0, 3)))
    expect(drops(store)).toEqual([['store_full_rejected', 1]])
  })

  it('counts the alerts committed first, and the telemetry they evicted', async () => {
    const size = await entryBytes()
    const store = await openStore(size * 3)
    await store.append({ events: makeEvents(0, 3), counters: noCounters() }) // full
    const alerts = makeEvents(3, 2, 'alert')
    const telemetry = makeEvents(5, 2)
    const err = await appendAbortedAfterOneCommit(store, [telemetry[0]!, alerts[0]!, telemetry[1]!, alerts[1]!])
    // The alerts (indices 1 and 3) were stored, the telemetry between them lost.
    expect(err).toMatchObject({ code: 'GW_ERR_STORE_FULL', committed: { accepted: 2, rejected: 0, evicted: 2 }, lost: [0, 2] })
    // The alerts evicted the two oldest readings; the new telemetry was never stored.
    expect(ids(await store.peek('u1', 100))).toEqual([...ids(alerts), 'ev-00000002'])
    expect(drops(store)).toEqual([['store_full_oldest', 2]])
  })

  it('closed (not aborted) while a part waits: rejects with the closing error, still carrying the committed part', async () => {
    const size = await entryBytes()
    const store = await openStore(size * 3)
    const err = await appendClosedAfterOneCommit(store, makeEvents(0, 5))
    expect(err).toBeInstanceOf(PartialAppendError)
    expect(err).toMatchObject({ code: 'GW_ERR_STORE_CLOSED', committed: { accepted: 3, rejected: 0, evicted: 0 }, lost: [3, 4] })
  })
})
