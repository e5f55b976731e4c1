/**
 * writeBatch (log-mutations.ts): the chained batch the store writes appends, acks and expiry with
 * must keep db.batch(array)'s contract on a real LevelDB: one atomic write, puts and dels in order.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { afterEach, describe, expect, it } from 'vitest'
import type { BatchOp } from './front-trimmer.js'
import { writeBatch } from './log-mutations.js'

describe('writeBatch (chained batch)', () => {
  const cleanups: Array<() => Promise<void>> = []
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c()
  })
  const openDb = async (): Promise<Level<string, Buffer>> => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-write-batch-'))
    const db = new Level<string, Buffer>(dir, { keyEncoding: 'utf8', valueEncoding: 'buffer' })
    await db.open()
    cleanups.push(async () => {
      await db.close()
      rmSync(dir, { recursive: true, force: true })
    })
    return db
  }

  it('writes puts and deletes in order, as one batch', async () => {
    const db = await openDb()
    await db.put('b', Buffer.from('old'))
    await writeBatch(db, [
      { type: 'put', key: 'a', value: Buffer.from('1') },
      { type: 'del', key: 'b' },
      { type: 'put', key: 'c', value: Buffer.from('2') },
      { type: 'del', key: 'c' },
      { type: 'put', key: 'd', value: Buffer.from('3') },
    ], { sync: true })
    expect(await db.iterator().all()).toEqual([['a', Buffer.from('1')], ['d', Buffer.from('3')]])
  })

  it('an invalid op fails the whole batch: nothing of it is written', async () => {
    const db = await openDb()
    const ops = [{ type: 'put', key: 'a', value: Buffer.from('1') }, { type: 'put', key: 'b', value: undefined }] as unknown as BatchOp[]
    await expect(writeBatch(db, ops)).rejects.toThrow()
    expect(await db.keys().all()).toEqual([])
    // The database is still usable afterwards.
    await writeBatch(db, [{ type: 'put', key: 'c', value: Buffer.from('3') }])
    expect(await db.keys().all()).toEqual(['c'])
  })
})
