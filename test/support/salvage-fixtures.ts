/**
 * Fixtures shared by the salvage tests (child-salvage.test.ts, salvage-copy.test.ts): store
 * directories inside a temp parent (salvage moves `<dir>` aside next to it, so the parent is what
 * gets removed), stores opened for a test, and a closed store filled with entries.
 * Call `cleanup()` in afterEach.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { makeEvents } from '../contract/store-contract-support.js'
import { LevelStore } from '../../gateway/store/level-store.js'

export class SalvageFixtures {
  private readonly parents: string[] = []
  private readonly stores: LevelStore[] = []

  constructor(private readonly prefix: string) {}

  /** `<fresh temp parent>/queue`; the parent is removed at cleanup. */
  newDir(): string {
    const parent = mkdtempSync(join(tmpdir(), this.prefix))
    this.parents.push(parent)
    return join(parent, 'queue')
  }

  /** Opens (and so salvages, if needed) the store in `dir`; closed at cleanup. */
  async openStore(dir: string): Promise<LevelStore> {
    const store = new LevelStore({ dir, maxBytes: 1e9, maxAgeMs: 1e12, uplinks: ['u1'] })
    this.stores.push(store)
    await store.open()
    return store
  }

  /** A closed store with `n` telemetry entries and the sequence counter `counterSource` = n. */
  async filledStore(dir: string, n: number, counterSource: string): Promise<void> {
    const store = new LevelStore({ dir, maxBytes: 1e9, maxAgeMs: 1e12, uplinks: ['u1'] })
    await store.open()
    await store.append({ events: makeEvents(0, n), counters: new Map([[counterSource, n]]) })
    await store.close()
  }

  /** Forgets a store the test closed itself. */
  forget(store: LevelStore): void {
    const i = this.stores.indexOf(store)
    if (i >= 0) this.stores.splice(i, 1)
  }

  async cleanup(): Promise<void> {
    for (const s of this.stores.splice(0)) await s.close().catch(() => undefined)
    for (const d of this.parents.splice(0)) rmSync(d, { recursive: true, force: true })
  }
}
