import { afterAll, describe, it } from 'vitest'
import { cleanupChaos } from '../support/chaos-gateway.js'
import { requireMosquitto } from '../support/mosquitto.js'
import { runHalfOpen } from './scenarios/half-open.js'
import { assertReport } from './report-assert.js'

describe.skipIf(!requireMosquitto())('chaos 3: half-open network (proxy stops forwarding, no FIN, no RST)', () => {
  afterAll(cleanupChaos)

  it('whole link silent 8 s, 3 times: detected within the keepalive, recovered when it heals', async (ctx) => {
    assertReport(await runHalfOpen({ keepaliveSec: 2, rounds: 3, freezeMs: 8000, newConnections: 'freeze', devices: 4, intervalMs: 5 }), 'full', ctx)
  })

  it('established connection dies silently while new ones work, 3 times: reconnects and goes on', async (ctx) => {
    assertReport(await runHalfOpen({ keepaliveSec: 2, rounds: 3, freezeMs: 8000, newConnections: 'forward', devices: 4, intervalMs: 5 }), 'full', ctx)
  })
})
