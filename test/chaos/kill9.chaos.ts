import { afterAll, describe, it } from 'vitest'
import { cleanupChaos } from '../support/chaos-gateway.js'
import { chaosSeed } from '../support/chaos-verdict.js'
import { requireMosquitto } from '../support/mosquitto.js'
import { runKill9 } from './scenarios/kill9.js'
import { assertReport } from './report-assert.js'

describe.skipIf(!requireMosquitto())('chaos 1: kill -9 at random moments under load', () => {
  afterAll(cleanupChaos)

  it('20 kills in a row, MQTT and Event Hubs uplinks: lost 0, order kept, duplicates within the window', async (ctx) => {
    const report = await runKill9({
      kills: 20, devices: 4, intervalMs: 2, countPerRun: 3000, minDelayMs: 150, maxDelayMs: 3000, eventhubs: true, seed: chaosSeed(),
    })
    assertReport(report, 'full', ctx)
  })
})
