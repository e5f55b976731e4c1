/**
 * Scenario 1: kill -9 of the gateway at random moments under load, N times in a row, then a
 * last run to completion. Each kill lands anywhere: during start-up (store open, uplink connect),
 * mid group-commit, with batches in flight, between a PUBACK and the ack that follows it.
 *
 * Proves: promise 1 (durable before acknowledged: nothing accepted is lost to SIGKILL), 2 and 3
 * (at-least-once; duplicates only from the in-flight window of each kill), 6 (order per device
 * survives restarts), and that the per-source sequence counter survives (no reuse, no gap).
 */
import { startChaosRig } from '../../support/chaos-rig.js'
import { newReport, seededRandom, check, type ScenarioReport } from '../../support/chaos-verdict.js'
import { finishRun } from './common.js'

export interface Kill9Params {
  /** SIGKILLs in a row. */
  kills: number
  /** Simulated devices; each produces one reading every intervalMs. */
  devices: number
  intervalMs: number
  /** Readings per device per process run (the simulator starts over after each restart). */
  countPerRun: number
  /** Each kill comes at a uniformly random moment in [minDelayMs, maxDelayMs] after the spawn. */
  minDelayMs: number
  maxDelayMs: number
  /** Also forward to the Event Hubs peer (both uplinks must get everything). */
  eventhubs: boolean
  seed: number
}

export async function runKill9(p: Kill9Params): Promise<ScenarioReport> {
  const report = newReport(`kill -9 x${p.kills} under load${p.eventhubs ? ' (MQTT + Event Hubs)' : ''}`, { ...p })
  const random = seededRandom(p.seed)
  const rig = await startChaosRig({ eventhubs: p.eventhubs, prefix: 'eg-chaos-kill9-' })
  try {
    rig.writeConfig({ sources: [{ type: 'simulator', id: 'sim', devices: p.devices, intervalMs: p.intervalMs, count: p.countPerRun }] })
    let beforeReady = 0
    let alwaysAlive = true
    const delays: number[] = []
    for (let k = 1; k <= p.kills; k++) {
      const gw = rig.startGateway(`run ${k}`)
      const delay = Math.round(p.minDelayMs + random() * (p.maxDelayMs - p.minDelayMs))
      delays.push(delay)
      const t0 = Date.now()
      // Look at the admin endpoint while waiting (to know whether the kill hit start-up), but
      // kill at the scheduled moment whatever it says.
      let ready = false
      while (Date.now() - t0 < delay && gw.alive) {
        if (!ready) ready = (await rig.admin.snapshot(200)).httpStatus !== undefined
        await new Promise((r) => setTimeout(r, Math.min(50, Math.max(1, delay - (Date.now() - t0)))))
      }
      if (!gw.alive) {
        alwaysAlive = false
        check(report, `run ${k} was alive until its kill`, false, `exited on its own: ${JSON.stringify(await gw.exited)}\n${gw.output().slice(-3000)}`)
      }
      if (!ready) beforeReady++
      await gw.kill9()
    }
    if (alwaysAlive) check(report, `every run was alive until its kill`, true)
    report.facts.killsBeforeAdminUp = beforeReady
    report.facts.killDelaysMs = `${Math.min(...delays)}..${Math.max(...delays)}`
    report.facts.receivedBeforeLastRun = [...rig.distinct()].map(([r, n]) => `${r}:${n}`).join(' ')

    const last = rig.startGateway('last run')
    await rig.admin.waitFor((s) => s.httpStatus === 200, 20_000, 'last run healthy', { gateway: last })
    await finishRun(rig, last, report, { drainTimeoutMs: 60_000 + p.countPerRun * p.intervalMs, interruptions: p.kills })
    return report
  } finally {
    await rig.dispose()
  }
}
