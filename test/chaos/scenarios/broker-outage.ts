/**
 * Scenario 2: the peer goes away under load. Either one long outage (broker down 30 s, then back)
 * or flapping (down and up every few seconds for a minute). Mosquitto is stopped with SIGTERM
 * (persistence on, so the subscriber's queued messages survive); with `eventhubs` the Event Hubs
 * peer is killed and restarted in the same rhythm, so both uplinks ride the same outages.
 *
 * Proves: promise 2 (never "log and drop" while disconnected: events wait on disk), 4 (memory
 * does not follow the backlog; the backlog is on disk, visible as queue depth), 6 (order kept
 * across rewind-and-retry), and that the drain starts after the peer returns (no stuck backoff).
 */
import { EH_UPLINK, MQTT_UPLINK, queueDepth, startChaosRig } from '../../support/chaos-rig.js'
import { check, newReport, type ScenarioReport } from '../../support/chaos-verdict.js'
import { finishRun, hold } from './common.js'

export interface BrokerOutageParams {
  /** Outages in a row (1 = a single long outage). */
  outages: number
  /** How long each outage lasts, ms (deliberate). */
  downMs: number
  /** How long the peer stays up between outages, ms (deliberate). */
  upMs: number
  devices: number
  intervalMs: number
  /** Kill/restart the Event Hubs peer too. */
  eventhubs: boolean
  /** Bound on every uplink reporting connected again after the peer returned. */
  recoverTimeoutMs: number
}

export async function runBrokerOutage(p: BrokerOutageParams): Promise<ScenarioReport> {
  const name = p.outages === 1 ? `peer down ${p.downMs / 1000} s then back` : `peer flapping: ${p.outages} x (down ${p.downMs / 1000} s, up ${p.upMs / 1000} s)`
  const report = newReport(`${name}${p.eventhubs ? ' (MQTT + Event Hubs)' : ''}`, { ...p })
  const rig = await startChaosRig({ eventhubs: p.eventhubs, prefix: 'eg-chaos-outage-' })
  try {
    // Produce through the whole schedule and a little beyond, so load runs across every edge.
    const scheduleMs = p.outages * (p.downMs + p.upMs) + 2000
    const count = Math.ceil(scheduleMs / p.intervalMs)
    rig.writeConfig({ sources: [{ type: 'simulator', id: 'sim', devices: p.devices, intervalMs: p.intervalMs, count }] })
    const gw = rig.startGateway('outage run')
    await rig.admin.waitFor((s) => s.health?.components?.uplinks?.every((u) => u.connected) === true, 20_000, 'uplinks connected', { gateway: gw })
    await rig.collector!.waitFor(() => rig.distinct().get(MQTT_UPLINK)! >= 200, 15_000)

    // Per uplink: how long until /healthz showed it disconnected, in each outage (Infinity: not
    // within the outage). MQTT notices at once (the broker closes the socket); Event Hubs health
    // is "the last completed operation", so it notices when a send fails (SDK retries, then
    // sendTimeoutMs at most).
    const noticeMs = new Map<string, number[]>(rig.uplinkIds().map((u) => [u, []]))
    let maxDepth = 0
    let healthAnswered = true
    const recoverMs: number[] = []
    for (let i = 0; i < p.outages; i++) {
      await rig.broker!.stop()
      if (p.eventhubs) await rig.peer!.kill()
      const downAt = Date.now()
      const pending = new Set(rig.uplinkIds())
      while (Date.now() - downAt < p.downMs) {
        const snap = await rig.admin.snapshot()
        if (snap.httpStatus === undefined) healthAnswered = false
        maxDepth = Math.max(maxDepth, queueDepth(snap.metrics, MQTT_UPLINK))
        for (const u of snap.health?.components?.uplinks ?? []) {
          if (pending.has(u.id) && u.connected === false) {
            pending.delete(u.id)
            noticeMs.get(u.id)!.push(Date.now() - downAt)
          }
        }
        await hold(Math.min(100, Math.max(1, p.downMs - (Date.now() - downAt))))
      }
      for (const u of pending) noticeMs.get(u)!.push(Infinity)
      await rig.broker!.restart()
      if (p.eventhubs) await rig.peer!.restart()
      const upAt = Date.now()
      try {
        await rig.admin.waitFor((s) => s.health?.components?.uplinks?.every((u) => u.connected) === true, p.recoverTimeoutMs, `uplinks reconnected after outage ${i + 1}`, { gateway: gw })
        recoverMs.push(Date.now() - upAt)
      } catch (err) {
        recoverMs.push(Infinity)
        check(report, `every uplink reconnected within ${p.recoverTimeoutMs} ms after outage ${i + 1}`, false, (err as Error).message.slice(0, 800))
      }
      if (i < p.outages - 1) {
        const up = p.upMs - (Date.now() - upAt)
        if (up > 0) await hold(up)
      }
    }
    const mqttNotice = noticeMs.get(MQTT_UPLINK)!
    check(report, 'mqtt: every outage shown in /healthz (uplink disconnected) while it lasted', mqttNotice.every(Number.isFinite), `ms: ${mqttNotice.join(', ')}`)
    if (p.eventhubs) {
      const eh = noticeMs.get(EH_UPLINK)!
      report.facts.ehNoticedMs = eh.map((n) => (Number.isFinite(n) ? n : 'not during the outage')).join('/')
      // Only judged when the outage outlasts the send deadline (EH_DEFAULTS.sendTimeoutMs 6 s) plus slack.
      if (p.downMs >= 10_000) check(report, 'eh: every outage longer than the send deadline shown in /healthz', eh.every(Number.isFinite), `ms: ${eh.join(', ')}`)
    }
    check(report, 'a backlog built up on disk during the outages', maxDepth > 0, `max queue depth seen ${maxDepth}`)
    check(report, '/healthz answered during every outage', healthAnswered)
    report.facts.mqttNoticedMs = mqttNotice.join('/')
    report.facts.maxQueueDepth = maxDepth
    report.facts.reconnectAfterReturnMs = `${Math.min(...recoverMs)}..${Math.max(...recoverMs)}`
    await finishRun(rig, gw, report, { drainTimeoutMs: 60_000, interruptions: p.outages })
    if (p.eventhubs) report.facts.ehPeerConnections = rig.peer!.stats().connections
    return report
  } finally {
    await rig.dispose()
  }
}
