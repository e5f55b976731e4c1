/**
 * Scenario 3: a half-open network. A loopback TCP proxy between gateway and broker silently
 * stops forwarding (no FIN, no RST; both sockets stay open, nothing moves either way) while the
 * gateway is under load. The gateway must notice within its MQTT keepalive (mqtt.js: PINGREQ
 * after keepaliveSec of silence, give up at 1.5 × keepaliveSec), and recover:
 * - `newConnections: 'forward'`: only the established connection is dead (a NAT entry or a
 *   middlebox that lost its state); new connections work, so the gateway must reconnect and go on
 *   while the old socket still looks open;
 * - `newConnections: 'freeze'`: the whole link is dead (new connections hang in connect); the
 *   gateway keeps accepting to disk and recovers when the proxy resumes.
 * The collector subscribes to the broker directly, not through the proxy.
 *
 * Proves: a dead link is detected by the keepalive instead of waiting forever on a socket that
 * never errors; nothing is lost across it; duplicates only from the in-flight window.
 */
import { MQTT_UPLINK, queueDepth, startChaosRig } from '../../support/chaos-rig.js'
import { startTcpProxy } from '../../support/tcp-proxy.js'
import { check, newReport, type ScenarioReport } from '../../support/chaos-verdict.js'
import { finishRun, hold } from './common.js'

export interface HalfOpenParams {
  keepaliveSec: number
  /** Partitions in a row. */
  rounds: number
  /** How long each partition lasts, ms (deliberate; must exceed the detection time). */
  freezeMs: number
  newConnections: 'freeze' | 'forward'
  devices: number
  intervalMs: number
}

export async function runHalfOpen(p: HalfOpenParams): Promise<ScenarioReport> {
  const what = p.newConnections === 'forward' ? 'established connection dies silently, new ones work' : 'whole link silent, then heals'
  const report = newReport(`half-open network x${p.rounds} (${what}), keepalive ${p.keepaliveSec} s`, { ...p })
  const rig = await startChaosRig({ prefix: 'eg-chaos-halfopen-' })
  const proxy = await startTcpProxy({ targetPort: rig.broker!.port })
  try {
    const scheduleMs = p.rounds * (p.freezeMs + 3000) + 2000
    rig.writeConfig({
      sources: [{ type: 'simulator', id: 'sim', devices: p.devices, intervalMs: p.intervalMs, count: Math.ceil(scheduleMs / p.intervalMs) }],
      mqtt: { url: proxy.url('mqtt'), keepaliveSec: p.keepaliveSec, connectTimeoutMs: 2000, ackTimeoutMs: 60_000 },
    })
    const gw = rig.startGateway('half-open run')
    const connected = (want: boolean) => (s: Awaited<ReturnType<typeof rig.admin.snapshot>>): boolean =>
      s.health?.components?.uplinks?.[0]?.connected === want
    await rig.admin.waitFor(connected(true), 20_000, 'uplink connected', { gateway: gw })
    await rig.collector!.waitFor(() => rig.distinct().get(MQTT_UPLINK)! >= 200, 15_000)

    const budgetMs = p.keepaliveSec * 1500 + 1000 // mqtt.js gives up at 1.5 × keepalive; +1 s for the admin poll and timers
    const detectMs: number[] = []
    const recoverMs: number[] = []
    let progressedWhileFrozen = 0
    for (let i = 0; i < p.rounds; i++) {
      const acceptedBefore = proxy.stats().upstreamConnected
      proxy.freeze({ newConnections: p.newConnections })
      const frozenAt = Date.now()
      try {
        // With new connections working, the uplink reconnects at once and its `connected: false`
        // can be shorter than one admin poll (a poll is an HTTP round trip to a busy gateway, often
        // longer than the 50 ms between polls). A new upstream connection is proof too: the uplink
        // opens one only after it gave up on the frozen one.
        const detected = (s: Awaited<ReturnType<typeof rig.admin.snapshot>>): boolean =>
          connected(false)(s) || (p.newConnections === 'forward' && proxy.stats().upstreamConnected > acceptedBefore)
        await rig.admin.waitFor(detected, budgetMs + 10_000, `round ${i + 1}: dead link detected`, { gateway: gw, intervalMs: 50 })
        detectMs.push(Date.now() - frozenAt)
      } catch {
        detectMs.push(Infinity)
      }
      if (p.newConnections === 'forward') {
        // New connections pass: the gateway must reconnect and deliver while the old socket hangs.
        const before = rig.distinct().get(MQTT_UPLINK)!
        try {
          await proxy.waitFor((s) => s.upstreamConnected > acceptedBefore, 15_000, 'a new upstream connection')
          await rig.collector!.waitFor(() => rig.distinct().get(MQTT_UPLINK)! > before + 100, 15_000)
          progressedWhileFrozen++
          recoverMs.push(Date.now() - frozenAt)
        } catch {
          recoverMs.push(Infinity)
        }
        const rest = p.freezeMs - (Date.now() - frozenAt)
        if (rest > 0) await hold(rest)
        proxy.thaw()
      } else {
        const rest = p.freezeMs - (Date.now() - frozenAt)
        if (rest > 0) await hold(rest)
        const depth = queueDepth((await rig.admin.snapshot()).metrics, MQTT_UPLINK)
        check(report, `round ${i + 1}: backlog kept on disk while the link was dead`, depth > 0, `queue depth ${depth}`)
        proxy.thaw()
        const thawedAt = Date.now()
        try {
          await rig.admin.waitFor(connected(true), 30_000, `round ${i + 1}: reconnected after the link healed`, { gateway: gw })
          recoverMs.push(Date.now() - thawedAt)
        } catch {
          recoverMs.push(Infinity)
        }
        await hold(1500) // some normal running between partitions
      }
    }
    const worst = Math.max(...detectMs)
    check(report, `dead link detected within 1.5 × keepalive (+1 s slack) = ${budgetMs} ms every round`, worst <= budgetMs, `detection ms: ${detectMs.join(', ')}`)
    if (p.newConnections === 'forward') {
      check(report, 'the gateway reconnected and delivered while the dead socket stayed open', progressedWhileFrozen === p.rounds, `${progressedWhileFrozen}/${p.rounds}`)
    } else {
      check(report, 'recovered after every heal', recoverMs.every(Number.isFinite), `ms after thaw: ${recoverMs.join(', ')}`)
    }
    report.facts.detectMs = detectMs.join('/')
    report.facts.recoverMs = recoverMs.join('/')
    report.facts.proxyConnections = proxy.stats().accepted
    report.facts.staleDiscarded = proxy.stats().discardedStale
    await finishRun(rig, gw, report, { drainTimeoutMs: 60_000, interruptions: p.rounds })
    return report
  } finally {
    await proxy.close()
    await rig.dispose()
  }
}
