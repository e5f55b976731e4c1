/**
 * The CI cut of the soak (`npm run soak` runs it for an hour): the REAL gateway process at
 * 300 events/s for ~40 s while Mosquitto is stopped for 3 s every ~15 s. Asserts delivery
 * (lost = 0 at a persistent-session subscriber) and leak checks on the gateway process: open fds
 * do not grow past the warm-up maximum, and RSS in the second half stays within 15 MB of the
 * first half's peak. No timing assertions: how fast anything happened is printed, never judged.
 */
import { describe, expect, it } from 'vitest'
import { requireMosquitto } from './support/mosquitto.js'
import { runSoak } from '../bench/soak/soak-run.js'

describe.skipIf(!requireMosquitto())('soak (CI cut)', () => {
  it('real gateway, broker restarted every ~15 s: lost = 0, fds flat, RSS bounded', { timeout: 240_000 }, async () => {
    const result = await runSoak({
      durationSec: 40,
      devices: 30,
      intervalMs: 100,
      brokerUpSec: 12,
      brokerDownSec: 3,
      sampleSec: 1.5,
      limits: { fdMargin: 2, rssGrowthMb: 15 },
    })
    console.log(`soak CI: ${result.targetRate} events/s, ${result.outages} outages, ${result.elapsedSec.toFixed(0)} s\n${result.table}`)
    const { delivery, fds, rss } = result.verdict
    const why = `${result.table}\ngateway output:\n${result.gatewayOutput.slice(-4000)}`
    expect(result.outages, why).toBeGreaterThanOrEqual(2)
    expect(delivery.lost, why).toBe(0)
    expect(delivery.unexpected, why).toBe(0)
    expect(result.exitCode, why).toBe(0)
    expect(fds.final, why).toBeLessThanOrEqual(fds.firstHalfMax + 2)
    expect(rss.growthMb, why).toBeLessThan(15)
  })
})
