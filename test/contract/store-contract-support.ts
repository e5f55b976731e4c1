/** Helpers for the Store contract suite: fixed-size events, a manual clock, temp dirs. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { DeadLetter, Entry, NewEvent, Priority, Store, WhenFull } from '../../gateway/core/types.js'

/** What a contract build gets; `dir` is where a durable implementation keeps its data. */
export interface StoreTestOptions {
  dir: string
  maxBytes: number
  maxAgeMs: number
  whenFull: WhenFull
  uplinks: string[]
  maxDeadLetters?: number
  now: () => number
}

/** The Store plus the operator methods the CLI will use. */
export interface AdminStore extends Store {
  deadLetters(uplink: string, limit?: number): Promise<DeadLetter[]>
  requeueDeadLetters(uplink: string): Promise<number>
  purgeDeadLetters(uplink: string): Promise<number>
  peek(uplink: string, limit?: number): Promise<Entry[]>
}

export type BuildStore = (opts: StoreTestOptions) => AdminStore

/** A ~217-byte structured CloudEvent; every event of the suite has the same size. */
export function makeEvent(n: number, priority: Priority = 'telemetry', source = 'urn:dev:sensor-1'): NewEvent {
  const id = `ev-${String(n).padStart(8, '0')}`
  const json = JSON.stringify({
    specversion: '1.0',
    id,
    source,
    type: priority === 'alert' ? 'io.edge.doorbell.press..' : 'io.edge.environment.....', // same length
    time: '2025-01-01T00:00:00.000Z',
    datacontenttype: 'application/json',
    data: { t: 21.5, h: 40.25, p: 1013.2, seq: String(n).padStart(8, '0') },
  })
  return { priority, source, id, json }
}

export function makeEvents(from: number, count: number, priority: Priority = 'telemetry'): NewEvent[] {
  return Array.from({ length: count }, (_, i) => makeEvent(from + i, priority))
}

export const noCounters = (): Map<string, number> => new Map()

export class ManualClock {
  constructor(public nowMs = 1_700_000_000_000) {}
  readonly now = (): number => this.nowMs
  advance(ms: number): void {
    this.nowMs += ms
  }
}

/** Opens stores in temp dirs and cleans everything up after each test. */
export class StoreHarness {
  readonly clock = new ManualClock()
  private readonly dirs: string[] = []
  private readonly open = new Set<AdminStore>()
  private dir = ''
  private sizeBytes = 0

  constructor(private readonly build: BuildStore) {}

  /** Bytes one `makeEvent` occupies in the store (measured once on a scratch store). */
  async entryBytes(): Promise<number> {
    if (this.sizeBytes > 0) return this.sizeBytes
    const dir = mkdtempSync(join(tmpdir(), 'gw-store-size-'))
    try {
      const store = this.build({ dir, maxBytes: 1e9, maxAgeMs: 1e9, whenFull: 'drop_oldest', uplinks: ['u1'], now: this.clock.now })
      await store.open()
      await store.append({ events: [makeEvent(0)], counters: noCounters() })
      this.sizeBytes = store.stats().bytes
      await store.close()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
    return this.sizeBytes
  }

  /** Opens a store on this test's directory (the same one on every call: a reopen). */
  async start(opts: Partial<StoreTestOptions> = {}): Promise<AdminStore> {
    if (!this.dir) {
      this.dir = mkdtempSync(join(tmpdir(), 'gw-store-'))
      this.dirs.push(this.dir)
    }
    const store = this.build({
      dir: this.dir,
      maxBytes: 64 * 1024 * 1024,
      maxAgeMs: 7 * 24 * 3_600_000,
      whenFull: 'drop_oldest',
      uplinks: ['u1'],
      now: this.clock.now,
      ...opts,
    })
    await store.open()
    this.open.add(store)
    return store
  }

  async stop(store: AdminStore): Promise<void> {
    this.open.delete(store)
    await store.close()
  }

  async cleanup(): Promise<void> {
    for (const store of this.open) await store.close().catch(() => undefined)
    this.open.clear()
    for (const dir of this.dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
    this.dir = ''
  }
}

/** Reads everything queued for `uplink` (in pages) without acking. */
export async function readAll(store: Store, uplink: string, page = 1000): Promise<Entry[]> {
  const all: Entry[] = []
  for (let got = await store.read(uplink, page, Infinity); got.length > 0; got = await store.read(uplink, page, Infinity)) all.push(...got)
  return all
}

export const ids = (entries: readonly { id: string }[]): string[] => entries.map((e) => e.id)
