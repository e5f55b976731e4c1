/**
 * Scenario 4: a slow and lossy link. The proxy adds latency and throttles bandwidth in both
 * directions (a poor cellular link), and now and then resets every connection (RST both ways)
 * while the gateway is sending.
 *
 * Proves: a link slower than the sensors fills the store instead of memory and drains in order
 * when it can; resets cost only the in-flight window (duplicates), never an event.
 */
import { MQTT_UPLINK, startChaosRig } from '../../support/chaos-rig.js'
import { startTcpProxy } from '../../support/tcp-proxy.js'
import { check, newReport, seededRandom, type ScenarioReport } from '../../support/chaos-verdict.js'
import { finishRun, hold } from './common.js'

export interface SlowLinkParams {
  latencyMs: number
  bytesPerSec: number
  /** Resets happen at random moments this far apart (uniform in [min, max]), while producing. */
  resetEveryMinMs: number
  resetEveryMaxMs: number
  /** How long the simulator produces, ms. */
  produceMs: number
  devices: number
  intervalMs: number
  /** Extra bytes per reading, to make the bandwidth matter. */
  padBytes: number
  seed: number
}

export async function runSlowLink(p: SlowLinkParams): Promise<ScenarioReport> {
  const report = newReport(`slow lossy link: +${p.latencyMs} ms each way, ${Math.round(p.bytesPerSec / 1024)} KiB/s, resets every ${p.resetEveryMinMs / 1000}-${p.resetEveryMaxMs / 1000} s`, { ...p })
  const random = seededRandom(p.seed)
  const rig = await startChaosRig({ prefix: 'eg-chaos-slow-' })
  const proxy = await startTcpProxy({ targetPort: rig.broker!.port, latencyMs: p.latencyMs, bytesPerSec: p.bytesPerSec, maxQueuedBytes: 256 * 1024 })
  try {
    rig.writeConfig({
      sources: [{ type: 'simulator', id: 'sim', devices: p.devices, intervalMs: p.intervalMs, count: Math.ceil(p.produceMs / p.intervalMs), padBytes: p.padBytes }],
      // A slow link: give PUBACKs time (the default 30 s is what a real deployment would keep).
      mqtt: { url: proxy.url('mqtt'), keepaliveSec: 10, ackTimeoutMs: 30_000 },
    })
    const gw = rig.startGateway('slow link run')
    await rig.admin.waitFor((s) => s.health?.components?.uplinks?.[0]?.connected === true, 20_000, 'uplink connected', { gateway: gw })
    const started = Date.now()
    let resets = 0
    while (Date.now() - started < p.produceMs) {
      await hold(Math.round(p.resetEveryMinMs + random() * (p.resetEveryMaxMs - p.resetEveryMinMs)))
      if (!gw.alive) break
      resets += proxy.resetAll()
    }
    check(report, 'connections were reset while sending', resets > 0, `${resets} resets`)
    report.facts.resets = resets
    report.facts.receivedWhenProducingEnded = rig.distinct().get(MQTT_UPLINK)!
    const drainFrom = Date.now()
    await finishRun(rig, gw, report, { drainTimeoutMs: 120_000, interruptions: Math.max(1, resets) })
    report.facts.drainAfterProducingMs = Date.now() - drainFrom
    report.facts.bytesUp = proxy.stats().bytesUp
    return report
  } finally {
    await proxy.close()
    await rig.dispose()
  }
}
