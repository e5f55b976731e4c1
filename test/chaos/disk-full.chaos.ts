import { afterAll, describe, it } from 'vitest'
import { cleanupChaos } from '../support/chaos-gateway.js'
import { requireMosquitto } from '../support/mosquitto.js'
import { runDiskFull, type DiskFullPolicy } from './scenarios/disk-full.js'
import { assertReport } from './report-assert.js'

describe.skipIf(!requireMosquitto())('chaos 5: disk full (tmpfs data dir, broker away)', () => {
  afterAll(cleanupChaos)

  for (const policy of ['drop_oldest', 'reject_new', 'block'] as DiskFullPolicy[]) {
    it(`whenFull=${policy}, maxBytes 2 MiB on an 8 MiB tmpfs: policy obeyed, drops counted, stored data intact`, async (ctx) => {
      assertReport(await runDiskFull({
        policy, tmpfsSize: '8m', maxBytes: '2MiB', devices: 4, intervalMs: 2, padBytes: 600,
        fillCountPerDevice: 2500, trickleMs: policy === 'reject_new' ? 8000 : 0, holdFullMs: 3000, fillTimeoutMs: 30_000, drainTimeoutMs: 60_000,
      }), 'full', ctx)
    })
  }

  it('filesystem fuller than maxBytes expects (64 MiB on an 8 MiB tmpfs): ENOSPC refused and counted, process up, appends work again after the drain', async (ctx) => {
    assertReport(await runDiskFull({
      policy: 'enospc', tmpfsSize: '8m', maxBytes: '64MiB', devices: 8, intervalMs: 1, padBytes: 600,
      fillCountPerDevice: 5000, trickleMs: 15_000, holdFullMs: 3000, fillTimeoutMs: 60_000, drainTimeoutMs: 60_000,
    }), 'full', ctx)
  })
})
