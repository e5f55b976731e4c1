/**
 * Scenario 7: the wall clock jumps backwards and forwards by hours during an outage (an NTP step
 * after a Pi without RTC booted with a stale clock, or a GPS/NTP glitch). The gateway runs under
 * libfaketime with the offset changed through a file while it runs (see chaos-faketime.ts);
 * the monotonic clock is left alone, as in reality.
 *
 * Proves: nothing expires because of a jump smaller than maxAge (store age uses the wall clock),
 * nothing is lost, order per device holds (sequence, not time, orders events), and the sources
 * keep producing after every jump (no "sleep until a time that is now hours away").
 */
import path from 'node:path'
import { MQTT_UPLINK, dropped, ingested, startChaosRig } from '../../support/chaos-rig.js'
import { fakeClock, libfaketimePath } from '../../support/chaos-faketime.js'
import { check, newReport, type ScenarioReport } from '../../support/chaos-verdict.js'
import { finishRun, hold } from './common.js'

export interface ClockJumpParams {
  /** Offsets applied one after the other during the outage (libfaketime syntax, from the real clock). */
  jumps: string[]
  /** Time spent at each offset, ms (deliberate). */
  holdMs: number
  /** One more jump applied right after the peer returns, while the backlog drains. */
  jumpWhileDraining: string
  /** store.maxAge; every jump must stay well inside it. */
  maxAge: string
  devices: number
  intervalMs: number
  eventhubs: boolean
  /** Bound on the uplinks reconnecting after the outage, and on the drain. */
  recoverTimeoutMs: number
}

/** Returns a skipped report when libfaketime is missing locally; fails under CI=true (CI installs it). */
export async function runClockJump(p: ClockJumpParams): Promise<ScenarioReport> {
  const report = newReport(`clock jumps ${p.jumps.join(' ')} during an outage, ${p.jumpWhileDraining} while draining${p.eventhubs ? ' (MQTT + Event Hubs)' : ''}`, { ...p })
  const lib = libfaketimePath()
  if (!lib) {
    const why = 'libfaketime not installed (apt-get install faketime); the clock-jump scenario cannot run'
    if (process.env.CI === 'true') check(report, 'libfaketime available', false, `${why}; .ci/run installs it`)
    else report.skipped = why
    return report
  }
  const rig = await startChaosRig({ eventhubs: p.eventhubs, prefix: 'eg-chaos-clock-' })
  try {
    const clock = fakeClock(lib, path.join(rig.dir, 'faketime'))
    const scheduleMs = (p.jumps.length + 2) * p.holdMs + 3000
    rig.writeConfig({
      sources: [{ type: 'simulator', id: 'sim', devices: p.devices, intervalMs: p.intervalMs, count: Math.ceil(scheduleMs / p.intervalMs) }],
      store: { maxAge: p.maxAge },
    })
    const gw = rig.startGateway('faketime run', clock.env)
    const allConnected = (s: Awaited<ReturnType<typeof rig.admin.snapshot>>): boolean => s.health?.components?.uplinks?.every((u) => u.connected) === true
    await rig.admin.waitFor(allConnected, 20_000, 'uplinks connected', { gateway: gw })
    await rig.collector!.waitFor(() => rig.distinct().get(MQTT_UPLINK)! >= 100, 15_000)

    await rig.broker!.stop()
    if (p.eventhubs) await rig.peer!.kill()
    const stalled: string[] = []
    const unhealthy = new Set<string>()
    let unanswered = 0
    // Polls /healthz every 100 ms for `ms`, remembering every 503 and why; returns the last look.
    const watch = async (ms: number): Promise<Awaited<ReturnType<typeof rig.admin.snapshot>>> => {
      const end = Date.now() + ms
      let snap = await rig.admin.snapshot()
      while (Date.now() < end) {
        if (snap.httpStatus === undefined) unanswered++
        else if (snap.httpStatus !== 200) unhealthy.add((snap.health?.reasons ?? []).join('; ').replace(/\d+ s/g, 'N s'))
        await hold(100)
        snap = await rig.admin.snapshot()
      }
      return snap
    }
    for (const offset of p.jumps) {
      clock.set(offset)
      // Measure production in the second half of the hold: what was made just before the jump
      // must not hide a source that stopped at the jump.
      const mid = await watch(p.holdMs / 2)
      const before = ingested(mid.metrics, 'sim')
      const end = await watch(p.holdMs / 2)
      const after = ingested(end.metrics, 'sim')
      if (after <= before) stalled.push(`${offset}: ingested ${before} -> ${after} over ${p.holdMs / 2} ms`)
    }
    const producing = check(report, 'the source kept producing after every jump', stalled.length === 0, stalled.join('; '))
    check(report, '/healthz answered after every jump', unanswered === 0 && gw.alive, `${unanswered} unanswered, alive=${gw.alive}`)
    await rig.broker!.restart()
    if (p.eventhubs) await rig.peer!.restart()
    clock.set(p.jumpWhileDraining)
    try {
      await rig.admin.waitFor(allConnected, p.recoverTimeoutMs, 'uplinks reconnected', { gateway: gw })
    } catch (err) {
      check(report, 'uplinks reconnected after the outage', false, (err as Error).message.slice(0, 500))
    }
    await watch(1000)
    check(report, 'no 503 caused by a clock jump (the outage itself is far shorter than the 60 s uplink grace)', unhealthy.size === 0, [...unhealthy].join(' | ').slice(0, 600))
    // A stalled source never finishes: then judge what it did make durable once the queues are empty.
    const result = await finishRun(rig, gw, report, { drainTimeoutMs: p.recoverTimeoutMs, interruptions: 1, sourcesDone: producing })
    // /api/status: the store counts expiry itself (see disk-full for why not /metrics alone).
    const expired = Math.max(result.last.drops['expired'] ?? 0, dropped(result.last.metrics, 'expired'))
    check(report, 'nothing expired (every jump is well inside maxAge)', expired === 0, `expired ${expired} (/api/status drops ${JSON.stringify(result.last.drops)})`)
    return report
  } finally {
    await rig.dispose()
  }
}
