/**
 * The salvage copy against crashes (salvage.ts, crash points): a gateway killed while it copies a
 * damaged store into a new one must not leave a half copy that opens as the store; the next open
 * copies again from the moved-aside store, which is still there.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { ids, makeEvents, readAll } from '../../test/contract/store-contract-support.js'
import { silentLogger } from '../core/observability.js'
import { copyInChild } from './child-salvage.js'
import { LevelStore } from './level-store.js'
import { REPAIR_MARKER } from './salvage.js'
import { SalvageFixtures } from '../../test/support/salvage-fixtures.js'
import { storeChildFaultEnv } from '../../test/support/store-child-faults.js'
import { SALVAGE_SOURCE, resumeInterruptedCopy } from './salvage-copy.js'
import { isReserveFile } from './reserve-file.js'

/** The compiled store (the suite's global setup builds dist/), run by a stand-in gateway process. */
const COMPILED_STORE = pathToFileURL(resolve(dirname(fileURLToPath(import.meta.url)), '../../dist/gateway/store/level-store.js')).href

const fx = new SalvageFixtures('gw-salvage-copy-')
const newDir = (): string => fx.newDir()
const openStore = (dir: string): Promise<LevelStore> => fx.openStore(dir)
const filledStore = (dir: string, n: number): Promise<void> => fx.filledStore(dir, n, 'src')
const pids: number[] = []

afterEach(async () => {
  for (const pid of pids.splice(0)) if (alive(pid)) process.kill(pid, 'SIGKILL')
  await fx.cleanup()
})

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('salvage copy and crashes', () => {
  it('a gateway killed (kill -9) mid-copy leaves no half store in place; the next open copies again from the moved-aside store', async () => {
    const dir = newDir()
    const parent = dirname(dir)
    await filledStore(dir, 50)
    // The repair child dies (as on LevelDB's assertion), so open() moves the store aside and
    // copies; the copy child stops after its first batch (the counters) and waits there.
    writeFileSync(join(dir, REPAIR_MARKER), 'test\n')
    const stalled = join(parent, 'stalled')
    const script = `const { LevelStore } = await import(${JSON.stringify(COMPILED_STORE)})
      await new LevelStore({ dir: ${JSON.stringify(dir)}, maxBytes: 1e9, maxAgeMs: 1e12, uplinks: ['u1'] }).open()`
    const env = { ...process.env, ...storeChildFaultEnv({ abortRepair: true, stallFile: stalled }) }
    const gateway = spawn(process.execPath, ['--input-type=module', '-e', script], { env, stdio: 'ignore' })
    const exited = once(gateway, 'exit')
    await expect.poll(() => existsSync(stalled), { timeout: 60_000, interval: 50 }).toBe(true)
    const copier = Number(readFileSync(stalled, 'utf8'))
    pids.push(copier)
    gateway.kill('SIGKILL')
    await exited
    // The copy child stops with its parent instead of writing on into what the next open clears.
    await expect.poll(() => alive(copier), { timeout: 30_000, interval: 50 }).toBe(false)
    const aside = readdirSync(parent).filter((f) => f.startsWith('queue.damaged-'))
    expect(aside).toHaveLength(1)
    expect(existsSync(dir)).toBe(false) // the half copy is not the store

    const store = await openStore(dir)
    expect(store.salvage.movedAside).toBe(join(parent, aside[0]!))
    expect(ids(await readAll(store, 'u1'))).toEqual(ids(makeEvents(0, 50)))
    expect((await store.counters()).get('src')).toBe(50)
    expect(readdirSync(parent).filter((f) => !isReserveFile(f)).sort()).toEqual(['queue', aside[0]!, 'stalled'].sort())
  })

  it('a stale salvage directory next to a sound store (a crash before the store was moved aside) is removed, the store kept as it is', async () => {
    const dir = newDir()
    await filledStore(dir, 5)
    mkdirSync(`${dir}.salvaging`)
    writeFileSync(join(`${dir}.salvaging`, 'CURRENT'), 'MANIFEST-000001\n')
    const store = await openStore(dir)
    expect(store.salvage).toEqual({ repaired: false, repairOnNextOpen: false })
    expect(ids(await readAll(store, 'u1'))).toEqual(ids(makeEvents(0, 5)))
    expect(readdirSync(dirname(dir)).filter((f) => !isReserveFile(f))).toEqual(['queue'])
  })

  it('an interrupted copy whose moved-aside store an operator deleted is kept: it is all that is left', async () => {
    const dir = newDir()
    await filledStore(`${dir}.salvaging`, 3)
    writeFileSync(join(`${dir}.salvaging`, SALVAGE_SOURCE), 'queue.damaged-20260101T000000Z\n')
    expect(await resumeInterruptedCopy(dir, silentLogger)).toBeUndefined()
    expect(readdirSync(dirname(dir)).filter((f) => !isReserveFile(f))).toEqual(['queue'])
    const store = await openStore(dir)
    expect(ids(await readAll(store, 'u1'))).toEqual(ids(makeEvents(0, 3)))
  })

  it('a copy that cannot write the new store throws instead of reporting a copy that is done', async () => {
    const src = newDir()
    await filledStore(src, 3)
    const notADir = join(dirname(src), 'file')
    writeFileSync(notADir, 'x')
    await expect(copyInChild(src, notADir)).rejects.toThrow(/could not write/)
  })
})
