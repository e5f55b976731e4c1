import { afterAll, describe, it } from 'vitest'
import { cleanupChaos } from '../support/chaos-gateway.js'
import { requireMosquitto } from '../support/mosquitto.js'
import { runClockJump } from './scenarios/clock-jump.js'
import { assertReport } from './report-assert.js'

describe.skipIf(!requireMosquitto())('chaos 7: wall clock jumps during an outage (libfaketime)', () => {
  afterAll(cleanupChaos)

  it('+6h, -6h, +2h, -1h, back to real time during an outage, -3h while draining: nothing expires, lost 0, order kept', async (ctx) => {
    assertReport(await runClockJump({
      jumps: ['+6h', '-6h', '+2h', '-1h', '+0'], holdMs: 3000, jumpWhileDraining: '-3h', maxAge: '24h', devices: 4, intervalMs: 5, eventhubs: true, recoverTimeoutMs: 60_000,
    }), 'full', ctx)
  })
})
