/**
 * Ack collection: long acked ranges are deleted with db.clear AFTER the batch that moved the
 * cursors and front keys (log-writer.ts collect). These tests stop a real LevelDB store exactly at
 * that seam (the batch written, the clear not or only half done) and check that nothing acked is
 * sent again, nothing is counted lost, and the leftovers leave the disk.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { afterEach, describe, expect, it } from 'vitest'
import { ManualClock, ids, makeEvents, noCounters, readAll } from '../../test/contract/store-contract-support.js'
import { RecordingLogger } from '../../test/support/recording-logger.js'
import { GatewayMetrics } from '../telemetry/metrics.js'
import type { LevelDb } from './front-trimmer.js'
import { entryKey } from './keys.js'
import { CLEAR_FROM_ENTRIES } from './log-writer.js'
import { LevelStore, type LevelStoreOptions } from './level-store.js'

const clock = new ManualClock()
const dirs: string[] = []
const stores: LevelStore[] = []

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close().catch(() => undefined)
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

function newDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gw-collect-'))
  dirs.push(dir)
  return dir
}

// The background timer (expiry, retried clears) runs only where a test asks for it: the tests stop
// the store exactly at the seam and must not have the timer move it on.
async function start(dir: string, opts: Partial<LevelStoreOptions> = {}): Promise<LevelStore> {
  const store = new LevelStore({ dir, maxBytes: 1e9, maxAgeMs: 1e9, uplinks: ['u1'], now: clock.now, monotonicNow: clock.now, expiryIntervalMs: 3_600_000, ...opts })
  stores.push(store)
  await store.open()
  return store
}

/** The store's LevelDB handle (the tests interpose on its clear). */
const dbOf = (store: LevelStore): LevelDb => (store as unknown as { ctx: { db: LevelDb } }).ctx.db

/**
 * Wraps the handle's db.clear, the lowest layer: the first `failures` calls delete only the lower
 * half of their range and then fail, like a crash or an I/O error mid-clear; later calls go through.
 * `cleared` resolves when a call went through.
 */
function breakClear(db: LevelDb, failures = Infinity): { calls: number; cleared: Promise<void>; reached: (n: number) => Promise<void>; restore: () => void } {
  const original = db.clear.bind(db)
  let markCleared = (): void => undefined
  const waiters: { n: number; resolve: () => void }[] = []
  const state = {
    calls: 0,
    cleared: new Promise<void>((resolve) => (markCleared = resolve)),
    /** Resolves once `n` calls have started. */
    reached: (n: number) => new Promise<void>((resolve) => (state.calls >= n ? resolve() : waiters.push({ n, resolve }))),
    restore: () => void (db.clear = original),
  }
  db.clear = (async (range: { gte: string; lte: string }) => {
    ++state.calls
    for (const w of waiters.filter((w) => w.n <= state.calls)) waiters.splice(waiters.indexOf(w), 1) && w.resolve()
    if (state.calls > failures) {
      await original(range)
      markCleared()
      return
    }
    const from = Number(range.gte.slice(-16))
    const through = Number(range.lte.slice(-16))
    const classPrefix = range.gte.slice(0, -16)
    await original({ gte: range.gte, lt: classPrefix + String(from + Math.floor((through - from + 1) / 2)).padStart(16, '0') })
    throw new Error('simulated crash in the middle of db.clear')
  }) as unknown as LevelDb['clear']
  return state
}

async function entryKeys(dir: string): Promise<string[]> {
  const db = new Level<string, Buffer>(dir, { keyEncoding: 'utf8', valueEncoding: 'buffer' })
  try {
    return await db.keys({ gte: 'e!', lt: 'e"' }).all()
  } finally {
    await db.close()
  }
}

/** Acks of N entries are cleared with db.clear; the tests ack exactly N, then more. */
const N = CLEAR_FROM_ENTRIES

const NO_DROPS = { store_full_oldest: 0, store_full_rejected: 0, expired: 0, dead_letter: 0, corrupt_entry: 0 }

/** What /metrics says of the leftovers of `store` (the gauge as a scrape renders it). */
async function leftoverMetric(store: LevelStore): Promise<number | undefined> {
  const metrics = new GatewayMetrics({ defaultMetrics: false })
  metrics.observeStore(() => store.stats())
  const line = (await metrics.render()).split('\n').find((l) => l.startsWith('edge_gateway_store_leftover_entries '))
  return line === undefined ? undefined : Number(line.split(' ')[1])
}

describe('ack collection with db.clear', () => {
  it('a crash between the ack batch and its clear: open() deletes the acked leftovers, resends none, counts none lost', async () => {
    const dir = newDir()
    const store = await start(dir)
    const events = makeEvents(0, N + 400)
    await store.append({ events, counters: noCounters() })
    const all = await readAll(store, 'u1', N + 400)
    const broken = breakClear(dbOf(store))
    await store.ack('u1', all.slice(0, N)) // written; the failed clear waits for its retry
    expect(broken.calls).toBe(1)
    await store.close()
    stores.splice(stores.indexOf(store), 1)
    // The seam really was hit: acked entries N/2..N-1 are still on disk, below the front key.
    const left = await entryKeys(dir)
    expect(left[0]).toBe(entryKey('telemetry', N / 2))
    expect(left).toHaveLength(N / 2 + 400)

    const again = await start(dir)
    const rest = all.slice(N)
    expect(ids(await again.peek('u1', 1_000))).toEqual(ids(rest))
    expect(again.stats()).toMatchObject({ entries: 400, bytes: rest.reduce((n, e) => n + e.sizeBytes, 0) })
    expect(again.stats().drops.corrupt_entry ?? 0).toBe(0)
    expect(again.salvage.lostEntries ?? 0).toBe(0)
    await again.close()
    stores.splice(stores.indexOf(again), 1)
    const keys = await entryKeys(dir)
    expect(keys).toHaveLength(400)
    expect(keys[0]).toBe(entryKey('telemetry', N))
  })

  it('after a clear that failed while running, the next ack retries it', async () => {
    const dir = newDir()
    const store = await start(dir)
    await store.append({ events: makeEvents(0, N + 400), counters: noCounters() })
    const all = await readAll(store, 'u1', N + 400)
    const broken = breakClear(dbOf(store))
    await store.ack('u1', all.slice(0, N)) // written; the failed clear waits for its retry
    broken.restore()
    await store.ack('u1', all.slice(N, N + 300))
    const rest = all.slice(N + 300)
    expect(store.stats()).toMatchObject({ entries: 100, bytes: rest.reduce((n, e) => n + e.sizeBytes, 0) })
    expect(store.stats().drops.corrupt_entry ?? 0).toBe(0)
    await store.close()
    stores.splice(stores.indexOf(store), 1)
    expect(await entryKeys(dir)).toEqual(rest.map((e) => entryKey('telemetry', e.offset)))
  })

  it('a dead letter whose clear fails is written and kept: the next dead letter does not overwrite it', async () => {
    const dir = newDir()
    const store = await start(dir, { maxDeadLetters: 2 * N })
    await store.append({ events: makeEvents(0, N + 400), counters: noCounters() })
    const all = await readAll(store, 'u1', N + 400)
    const broken = breakClear(dbOf(store))
    // Dead-lettering N entries acks them: a long range, removed with the clear that fails.
    await store.deadLetter('u1', all.slice(0, N), 'message_too_large', 'first')
    await store.deadLetter('u1', all.slice(N, N + 1), 'message_too_large', 'second')
    expect(broken.calls).toBeGreaterThanOrEqual(1)
    expect(store.stats().drops.dead_letter).toBe(N + 1)
    const letters = await store.deadLetters('u1', 2 * N)
    expect(letters).toHaveLength(N + 1)
    expect(letters.map((l) => l.entry.id)).toEqual(ids(all.slice(0, N + 1)))
  })

  it('a short acked range is deleted inside the ack batch, without db.clear', async () => {
    const dir = newDir()
    const store = await start(dir)
    await store.append({ events: makeEvents(0, 300), counters: noCounters() })
    const all = await readAll(store, 'u1', 300)
    const broken = breakClear(dbOf(store))
    await store.ack('u1', all.slice(0, 100))
    expect(broken.calls).toBe(0)
    await store.close()
    stores.splice(stores.indexOf(store), 1)
    expect(await entryKeys(dir)).toEqual(all.slice(100).map((e) => entryKey('telemetry', e.offset)))
  })

  // Between a clear that failed and the next ack, the acked range is garbage (as after a crash):
  // an eviction or an expiry starting from it would count delivered entries as dropped.
  it('after a clear that failed, eviction counts no acked entry as dropped and frees only live bytes', async () => {
    const probe = await start(newDir())
    await probe.append({ events: makeEvents(0, 1), counters: noCounters() })
    const size = probe.stats().bytes
    const dir = newDir()
    const store = await start(dir, { maxBytes: (N + 400) * size, whenFull: 'drop_oldest' })
    await store.append({ events: makeEvents(0, N + 400), counters: noCounters() })
    const all = await readAll(store, 'u1', N + 400)
    const broken = breakClear(dbOf(store), 1)
    await store.ack('u1', all.slice(0, N)) // written; the failed clear waits for its retry

    const added = makeEvents(N + 400, 100)
    expect(await store.append({ events: added, counters: noCounters() })).toMatchObject({ accepted: 100, evicted: 0 })
    expect(store.stats().drops).toEqual(NO_DROPS)
    expect(store.stats()).toMatchObject({ entries: 500, bytes: 500 * size })
    const live = [...all.slice(N), ...(await readAll(store, 'u1'))]
    expect(ids(live)).toEqual([...ids(all.slice(N)), ...ids(added)])

    // The next ack clears what the failed clear left.
    await store.ack('u1', live.slice(0, 10))
    expect(broken.calls).toBe(2)
    await store.close()
    stores.splice(stores.indexOf(store), 1)
    expect(await entryKeys(dir)).toEqual(live.slice(10).map((e) => entryKey('telemetry', e.offset)))
    const again = await start(dir, { maxBytes: (N + 400) * size })
    expect(again.stats()).toMatchObject({ entries: 490, bytes: 490 * size })
    expect(again.stats().drops).toEqual(NO_DROPS)
    expect(ids(await again.peek('u1', 1_000))).toEqual(ids(live.slice(10)))
  })

  it('after a clear that failed, expiry counts no acked entry as expired', async () => {
    const dir = newDir()
    const store = await start(dir, { maxAgeMs: 1_000 })
    await store.append({ events: makeEvents(0, N), counters: noCounters() })
    clock.advance(600)
    await store.append({ events: makeEvents(N, 400), counters: noCounters() })
    const all = await readAll(store, 'u1', N + 400)
    breakClear(dbOf(store), 1)
    await store.ack('u1', all.slice(0, N)) // written; the failed clear waits for its retry
    clock.advance(500) // the acked entries are past maxAge, the live ones are not
    expect(await store.expireNow()).toBe(0)
    expect(store.stats()).toMatchObject({ entries: 400 })
    expect(store.stats().drops).toEqual(NO_DROPS)
    expect(ids(await store.peek('u1', 1_000))).toEqual(ids(all.slice(N)))
  })

  it('a clear that failed is retried by the background timer, without waiting for another ack', async () => {
    const dir = newDir()
    const store = await start(dir, { expiryIntervalMs: 10 })
    await store.append({ events: makeEvents(0, N + 400), counters: noCounters() })
    const all = await readAll(store, 'u1', N + 400)
    const broken = breakClear(dbOf(store), 1)
    await store.ack('u1', all.slice(0, N)) // written; the failed clear waits for its retry
    await broken.cleared
    await store.close()
    stores.splice(stores.indexOf(store), 1)
    expect(await entryKeys(dir)).toEqual(all.slice(N).map((e) => entryKey('telemetry', e.offset)))
  })

  it('leftovers show in stats and /metrics while their clear fails; the retry that clears them logs once', async () => {
    const log = new RecordingLogger()
    const dir = newDir()
    const store = await start(dir, { log })
    await store.append({ events: [...makeEvents(0, N, 'alert'), ...makeEvents(N, N + 400)], counters: noCounters() })
    const all = await readAll(store, 'u1', 2 * N + 400) // the alerts first
    const broken = breakClear(dbOf(store), 2)
    const recoveries = (): unknown[] => log.lines.filter((l) => l.level === 'info' && /cleared the acked entries/.test(l.msg ?? '')).map((l) => l.obj)

    // Two long ranges (one per class); the first clear fails, the second is not reached.
    await store.ack('u1', all.slice(0, 2 * N))
    expect(broken.calls).toBe(1)
    expect(store.stats().leftoverClears).toEqual({ ranges: 2, entries: 2 * N })
    expect(await leftoverMetric(store)).toBe(2 * N)
    expect(store.stats()).toMatchObject({ entries: 400 }) // garbage, not queued

    await store.ack('u1', all.slice(2 * N, 2 * N + 10)) // retried, fails again
    expect(broken.calls).toBe(2)
    expect(store.stats().leftoverClears).toEqual({ ranges: 2, entries: 2 * N })
    expect(recoveries()).toEqual([])

    await store.ack('u1', all.slice(2 * N + 10, 2 * N + 20)) // retried, both ranges cleared
    expect(broken.calls).toBe(4)
    expect(store.stats().leftoverClears).toEqual({ ranges: 0, entries: 0 })
    expect(await leftoverMetric(store)).toBe(0)
    expect(recoveries()).toEqual([{ ranges: 2, entries: 2 * N, failedAttempts: 2 }])

    await store.ack('u1', all.slice(2 * N + 20, 2 * N + 30)) // nothing left: no second line
    expect(recoveries()).toHaveLength(1)
    await store.close()
    stores.splice(stores.indexOf(store), 1)
    expect(await entryKeys(dir)).toEqual(all.slice(2 * N + 30).map((e) => entryKey('telemetry', e.offset)))
  })

  it('a clear that keeps failing in the background is logged once, then at most once a minute with how many were not', async () => {
    const log = new RecordingLogger()
    const store = await start(newDir(), { log, expiryIntervalMs: 5 })
    await store.append({ events: makeEvents(0, N), counters: noCounters() })
    const broken = breakClear(dbOf(store)) // fails for good
    await store.ack('u1', await readAll(store, 'u1', N)) // the first failure, on the ack path
    const errors = (): unknown[] => log.lines.filter((l) => l.level === 'error' && /background work failed/.test(l.msg ?? '')).map((l) => l.obj)
    await broken.reached(5) // four retries by the timer
    expect(errors()).toHaveLength(1)
    clock.advance(60_000)
    await broken.reached(broken.calls + 2) // a retry after the minute has been logged by the time the next one starts
    expect(errors()).toHaveLength(2)
    expect((errors()[1] as { suppressed: number }).suppressed).toBeGreaterThanOrEqual(2)
    broken.restore()
  })
})
