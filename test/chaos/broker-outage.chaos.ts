import { afterAll, describe, it } from 'vitest'
import { cleanupChaos } from '../support/chaos-gateway.js'
import { requireMosquitto } from '../support/mosquitto.js'
import { runBrokerOutage } from './scenarios/broker-outage.js'
import { assertReport } from './report-assert.js'

describe.skipIf(!requireMosquitto())('chaos 2: the peer goes away under load', () => {
  afterAll(cleanupChaos)

  it('broker (and Event Hubs peer) down 30 s, then back: lost 0, order kept', async (ctx) => {
    assertReport(await runBrokerOutage({ outages: 1, downMs: 30_000, upMs: 0, devices: 4, intervalMs: 5, eventhubs: true, recoverTimeoutMs: 30_000 }), 'full', ctx)
  })

  it('broker (and Event Hubs peer) flapping every few seconds for a minute', async (ctx) => {
    assertReport(await runBrokerOutage({ outages: 12, downMs: 2000, upMs: 3000, devices: 4, intervalMs: 5, eventhubs: true, recoverTimeoutMs: 30_000 }), 'full', ctx)
  })
})
