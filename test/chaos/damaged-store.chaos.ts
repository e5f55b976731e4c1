import { afterAll, describe, it } from 'vitest'
import { cleanupChaos } from '../support/chaos-gateway.js'
import { chaosSeed } from '../support/chaos-verdict.js'
import { requireMosquitto } from '../support/mosquitto.js'
import { runDamagedStore, type Damage } from './scenarios/damaged-store.js'
import { assertReport } from './report-assert.js'

const DAMAGES: Damage[] = ['flip_table', 'truncate_table', 'flip_log', 'truncate_log', 'truncate_manifest', 'delete_current']

describe.skipIf(!requireMosquitto())('chaos 6: damaged store (bytes flipped, files truncated in the data dir)', () => {
  afterAll(cleanupChaos)

  for (const damage of DAMAGES) {
    it(`${damage}: comes up (healthz 200) and keeps forwarding`, async (ctx) => {
      assertReport(await runDamagedStore({
        damage, devices: 4, backlogPerDevice: 2500, afterPerDevice: 500, padBytes: 600, upWithinMs: 20_000, maxRestarts: 3, seed: chaosSeed(),
      }), 'full', ctx)
    })
  }
})
