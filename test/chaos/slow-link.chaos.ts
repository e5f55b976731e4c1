import { afterAll, describe, it } from 'vitest'
import { cleanupChaos } from '../support/chaos-gateway.js'
import { chaosSeed } from '../support/chaos-verdict.js'
import { requireMosquitto } from '../support/mosquitto.js'
import { runSlowLink } from './scenarios/slow-link.js'
import { assertReport } from './report-assert.js'

describe.skipIf(!requireMosquitto())('chaos 4: slow and lossy link', () => {
  afterAll(cleanupChaos)

  it('50 ms each way, 64 KiB/s, connections reset every 2-6 s, for 30 s: lost 0', async (ctx) => {
    assertReport(await runSlowLink({
      latencyMs: 50, bytesPerSec: 64 * 1024, resetEveryMinMs: 2000, resetEveryMaxMs: 6000, produceMs: 30_000, devices: 4, intervalMs: 40, padBytes: 200, seed: chaosSeed(),
    }), 'full', ctx)
  })
})
