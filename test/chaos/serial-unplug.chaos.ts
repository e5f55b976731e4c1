import { afterAll, describe, it } from 'vitest'
import { cleanupChaos } from '../support/chaos-gateway.js'
import { chaosSeed } from '../support/chaos-verdict.js'
import { requireMosquitto } from '../support/mosquitto.js'
import { runSerialUnplug } from './scenarios/serial-unplug.js'
import { assertReport } from './report-assert.js'

describe.skipIf(!requireMosquitto())('chaos 8: serial device unplugged and replugged', () => {
  afterAll(cleanupChaos)

  it('10 unplugs of 0.3-3 s: every one noticed, data flows again, lost 0 of what was made durable', async (ctx) => {
    assertReport(await runSerialUnplug({
      unplugs: 10, downMinMs: 300, downMaxMs: 3000, upMs: 1500, intervalMs: 10, reopenMaxMs: 1000, seed: chaosSeed(),
    }), 'full', ctx)
  })
})
