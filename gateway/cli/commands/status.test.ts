/** `edge-gateway status` text: the store line names what holds the store back, and only when it does. */
import { describe, expect, it } from 'vitest'
import type { StatusResponse } from '../../admin/routes/api-types.js'
import { formatStatus } from './status.js'

function status(store: Partial<StatusResponse['store']> = {}): StatusResponse {
  return {
    gateway: { id: 'g', version: '0.1.0', startedMs: 0, uptimeMs: 60_000 },
    timeMs: 60_000,
    health: { status: 'ok', healthy: true, reasons: [], warnings: [] },
    pipeline: { running: true, ingestPending: 0 },
    sources: [],
    uplinks: [{ id: 'up', connected: true, disconnectedForMs: 0, queue: { depth: 0, bytes: 0, oldestAgeMs: 0 } }],
    store: { entries: 10, bytes: 2048, maxBytes: 1 << 20, oldestAgeMs: 0, deadLetters: 0, leftoverClearEntries: 0, blockedAppends: 0, ...store },
    rates: { inPerSec: 0, outPerSec: 0, windowMs: 0 },
    totals: { ingested: 10, forwarded: 0, rejected: 0, sendRetries: 0 },
    drops: {},
    devices: { tracked: 0, max: 1000, evicted: 0 },
  }
}

const storeLine = (s: StatusResponse): string => formatStatus(s, 'http://127.0.0.1:8080').split('\n').find((l) => l.startsWith('STORE'))!

describe('status command: store line', () => {
  it('says nothing about blocked appends or undeleted acked entries while there are none', () => {
    expect(storeLine(status())).not.toMatch(/waiting for room|not yet deleted/)
  })

  it('names appends waiting for room and acked entries whose deletes keep failing', () => {
    const line = storeLine(status({ blockedAppends: 2, leftoverClearEntries: 5000 }))
    expect(line).toContain('2 appends waiting for room')
    expect(line).toContain('5,000 acked entries not yet deleted (deletes failing)')
  })

  it('reads a status document from an older daemon without the newer fields', () => {
    const old = status()
    delete (old.store as Partial<StatusResponse['store']>).blockedAppends
    delete (old.store as Partial<StatusResponse['store']>).leftoverClearEntries
    expect(storeLine(old)).toMatch(/^STORE {4}10 entries/)
  })
})
