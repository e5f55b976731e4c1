/**
 * Scenario 6: a damaged store. The gateway builds a backlog with the broker away and is stopped
 * (SIGTERM, or kill -9 for the write-ahead-log damages), then the LevelDB files in its data dir
 * are damaged the way SD cards and power cuts damage them: bytes flipped inside a table file or
 * the write-ahead log, the log truncated mid-record, the MANIFEST truncated, CURRENT deleted.
 * Then it is started again with the broker back.
 *
 * It must come up (`/healthz` 200 within a deadline, not exit 1) and keep forwarding. A gateway
 * that exits on its own with a failure code (75: "restart me so the store can repair") is
 * restarted like systemd's Restart=on-failure would, a bounded number of times. Then: every event
 * made durable after the damage arrives (sequences above the pre-damage counters), every reading
 * of the last process arrives (counted at the subscriber by CloudEvent time and id), and no
 * (source, sequence) is reused for a different event (a consumer deduping on source + sequence
 * would otherwise drop new readings as repeats). Old events lost to the damage must be counted
 * (`corrupt_entry`), in /metrics as well as /api/status.
 *
 * While the store salvage is not implemented, the scenario reports itself skipped with that reason
 * (detected from the sources: no `corrupt_entry` drop reason in gateway/core/types.ts).
 */
import { closeSync, existsSync, ftruncateSync, openSync, readdirSync, readFileSync, readSync, statSync, unlinkSync, writeSync } from 'node:fs'
import path from 'node:path'
import { MQTT_UPLINK, dropped, startChaosRig } from '../../support/chaos-rig.js'
import { check, newReport, seededRandom, shortSource, type ScenarioReport } from '../../support/chaos-verdict.js'
import { errorSummary } from '../../support/chaos-gateway.js'
import { REPO_ROOT, finishRun, hold } from './common.js'

/** Longer than the gateway's store-watch period (1 s, gateway/runtime/store-watch.ts). */
const STORE_WATCH_SETTLE_MS = 1500

export type Damage = 'flip_table' | 'truncate_table' | 'flip_log' | 'truncate_log' | 'truncate_manifest' | 'delete_current'

export interface DamagedStoreParams {
  damage: Damage
  devices: number
  /** Readings per device in the first run (the backlog that gets damaged). */
  backlogPerDevice: number
  /** Readings per device after the restart (must all arrive). */
  afterPerDevice: number
  padBytes: number
  /** Deadline for /healthz 200 after the damaged restart. */
  upWithinMs: number
  /** Restarts of a gateway that exits on its own (as systemd's Restart=on-failure would). */
  maxRestarts: number
  seed: number
}

/** True when the sources have the store salvage (its drop reason exists). */
export function storeSalvagePresent(): boolean {
  try {
    return readFileSync(path.join(REPO_ROOT, 'gateway/core/types.ts'), 'utf8').includes("'corrupt_entry'")
  } catch {
    return false
  }
}

export async function runDamagedStore(p: DamagedStoreParams): Promise<ScenarioReport> {
  const report = newReport(`damaged store: ${p.damage.replace('_', ' ')}, then restart`, { ...p })
  if (!storeSalvagePresent()) {
    report.skipped = 'store salvage not implemented yet (no corrupt_entry drop reason in gateway/core/types.ts): a damaged LevelDB makes `run` exit 1 (GW_ERR_STORE_CORRUPT)'
    return report
  }
  const random = seededRandom(p.seed)
  const rig = await startChaosRig({ prefix: 'eg-chaos-damage-' })
  try {
    // Run 1: a backlog on disk (broker away), bigger than LevelDB's 2 MiB write buffer so there
    // are table files as well as a log.
    rig.writeConfig({ sources: [{ type: 'simulator', id: 'sim', devices: p.devices, intervalMs: 0, count: p.backlogPerDevice, padBytes: p.padBytes }] })
    await rig.broker!.stop()
    const first = rig.startGateway('backlog run')
    await rig.admin.waitFor((s) => s.health?.components?.sources?.[0]?.state === 'done', 60_000, 'backlog written', { gateway: first })
    const viaKill = p.damage === 'flip_log' || p.damage === 'truncate_log'
    if (viaKill) await first.kill9()
    else check(report, 'backlog run stops cleanly', (await first.stop()).code === 0)
    const before = await rig.storedCounters()
    const backlog = [...before.values()].reduce((a, b) => a + b, 0)
    report.facts.backlogEvents = backlog
    const queueDir = path.join(rig.dataDir, 'queue')
    report.facts.files = readdirSync(queueDir).sort().join(' ')
    report.facts.damaged = damage(queueDir, p.damage, random)

    // Run 2: broker back, damaged store, new readings. Like systemd (Restart=on-failure), restart
    // a gateway that exits on its own with a failure code (75: the store asked for a restart to
    // repair itself), at most `maxRestarts` times.
    await rig.broker!.restart()
    rig.writeConfig({ sources: [{ type: 'simulator', id: 'sim', devices: p.devices, intervalMs: 2, count: p.afterPerDevice, padBytes: p.padBytes }] })
    const restartedAt = Date.now()
    let gw = rig.startGateway('damaged restart')
    let lastStartAt = restartedAt
    let up = false
    try {
      await rig.admin.waitFor((s) => s.httpStatus === 200, p.upWithinMs, 'healthz 200 after the damage', { gateway: gw })
      up = true
    } catch (err) {
      check(report, `came up: /healthz 200 within ${p.upWithinMs} ms`, false, (err as Error).message.slice(0, 2000))
    }
    if (!up) return report
    check(report, `came up: /healthz 200 within ${p.upWithinMs} ms`, true, `${Date.now() - restartedAt} ms`)
    const exits: string[] = []
    let corruptEarlier = 0
    let corruptNow = 0
    for (;;) {
      // Poll until drained or the process exits on its own (external process: no event to await).
      const deadline = Date.now() + 60_000
      let drained = false
      while (gw.alive && Date.now() < deadline && !drained) {
        const snap = await rig.admin.snapshot()
        corruptNow = Math.max(corruptNow, snap.drops['corrupt_entry'] ?? 0)
        drained = snap.health?.components?.sources?.[0]?.state === 'done' && snap.metrics.includes(`edge_gateway_queue_depth{uplink="${MQTT_UPLINK}"} 0\n`)
        if (!drained) await new Promise((r) => setTimeout(r, 200))
      }
      // The gateway's store watch acts once a second (store drops into /metrics, a restart to
      // repair damage seen while draining): give it that second before judging a fast drain.
      if (drained && gw.alive) await hold(STORE_WATCH_SETTLE_MS)
      if (gw.alive || exits.length >= p.maxRestarts) break
      const exit = await gw.exited
      exits.push(`exit ${exit.code ?? exit.signal}: ${errorSummary(gw, 3)}`)
      if (exit.code === 0) break
      corruptEarlier += corruptNow
      corruptNow = 0
      // Restart until one comes up (a crash loop shows as every restart exiting again).
      let cameUp = false
      while (!cameUp && exits.length <= p.maxRestarts) {
        gw = rig.startGateway(`supervisor restart ${exits.length}`)
        lastStartAt = Date.now()
        try {
          await rig.admin.waitFor((s) => s.httpStatus === 200, p.upWithinMs, `healthz 200 after supervisor restart ${exits.length}`, { gateway: gw })
          cameUp = true
        } catch (err) {
          const exit = gw.alive ? undefined : await gw.exited
          exits.push(exit ? `exit ${exit.code ?? exit.signal} before coming up: ${gw.output().split('\n').filter((l) => l && !l.startsWith('{')).slice(-2).join(' ').slice(0, 300)}` : `not up: ${(err as Error).message.slice(0, 300)}`)
          if (!exit) break
        }
      }
      if (!cameUp) {
        report.facts.exits = exits.join(' | ')
        check(report, `came up again within ${p.maxRestarts} supervisor restarts`, false, exits.join(' | '))
        return report
      }
    }
    report.facts.supervisorRestarts = exits.length
    if (exits.length > 0) report.facts.exits = exits.join(' | ')
    check(report, `kept running, or asked for a restart and then kept running (at most ${p.maxRestarts} supervisor restarts)`, gw.alive, exits.join(' | '))
    const { last, expected } = await finishRun(rig, gw, report, { drainTimeoutMs: 30_000, interruptions: 1 + exits.length, countedDrops: Number.MAX_SAFE_INTEGER })
    // finishRun judged against the salvaged counters (old events lost to the damage included);
    // the promises that matter here are below.
    report.checks = report.checks.filter((c) => !/: lost <= counted drops/.test(c.name))
    corruptNow = Math.max(corruptNow, last.drops['corrupt_entry'] ?? 0)

    // Everything made durable after the damage: sequences above the pre-damage counters.
    const receipts = rig.receipts().get(MQTT_UPLINK) ?? []
    const have = new Set(receipts.map((r) => `${r.source}#${r.sequence}`))
    let newDurable = 0
    let newMissing = 0
    for (const [source, n] of expected) {
      for (let q = (before.get(source) ?? 0) + 1; q <= n; q++) {
        newDurable++
        if (!have.has(`${source}#${q}`)) newMissing++
      }
    }
    check(report, 'every event made durable after the damage arrived (sequences above the pre-damage counters)', newMissing === 0 && newDurable > 0, `${newMissing} of ${newDurable} missing`)
    const wantFresh = p.devices * p.afterPerDevice
    const fresh = new Set(receipts.filter((r) => r.timeMs >= lastStartAt).map((r) => r.id))
    check(report, 'every reading of the last process arrived', fresh.size >= wantFresh, `${fresh.size}/${wantFresh}`)
    const ids = new Map<string, string>()
    const reused: string[] = []
    for (const r of receipts) {
      const key = `${r.source}#${r.sequence}`
      const id = ids.get(key)
      if (id === undefined) ids.set(key, r.id)
      else if (id !== r.id && reused.length < 5) reused.push(`${shortSource(r.source)} seq ${r.sequence}`)
    }
    check(report, 'no (source, sequence) reused for a different event', reused.length === 0, reused.join(', '))
    const oldArrived = new Set(receipts.filter((r) => r.timeMs < restartedAt).map((r) => `${r.source}#${r.sequence}`)).size
    const statusCount = corruptEarlier + corruptNow
    const metricCount = dropped(last.metrics, 'corrupt_entry')
    const oldLost = backlog - oldArrived
    report.facts.oldArrived = oldArrived
    report.facts.oldLost = oldLost
    report.facts.corruptCounted = `status ${statusCount} (all processes), metrics ${metricCount} (last process)`
    report.facts.droppedMetrics = last.metrics.split('\n').filter((l) => l.startsWith('edge_gateway_events_dropped_total')).join(' ')
    if (exits.length === 0) {
      check(report, 'old events lost to the damage are counted (corrupt_entry in /api/status)', oldLost <= statusCount, `lost ${oldLost} of ${backlog}, counted ${statusCount}`)
    } else {
      // A process that exits on its own takes its last counts with it: polling every 200 ms sees
      // a lower bound only, so with supervisor restarts this is reported, not judged.
      report.facts.corruptVsLost = `lost ${oldLost} of ${backlog}, counted at least ${statusCount} across ${exits.length + 1} processes`
    }
    if (corruptNow > 0) {
      check(report, 'corrupt_entry drops are in /metrics too (edge_gateway_events_dropped_total)', metricCount >= corruptNow,
        `/metrics ${metricCount}, /api/status ${corruptNow} in the same process`)
    }
    return report
  } finally {
    await rig.dispose()
  }
}

/** Applies one damage to the LevelDB directory; returns what it did. */
function damage(dir: string, kind: Damage, random: () => number): string {
  const files = readdirSync(dir)
  const pick = (re: RegExp, largest = true): string | undefined => {
    const matches = files.filter((f) => re.test(f)).map((f) => ({ f, size: statSync(path.join(dir, f)).size }))
    matches.sort((a, b) => (largest ? b.size - a.size : a.size - b.size))
    return matches[0]?.f
  }
  const flip = (file: string, n: number): string => {
    const full = path.join(dir, file)
    const size = statSync(full).size
    const fd = openSync(full, 'r+')
    const at: number[] = []
    try {
      for (let i = 0; i < n; i++) {
        const pos = Math.floor(size * 0.1 + random() * size * 0.8)
        const b = Buffer.alloc(1)
        readSync(fd, b, 0, 1, pos)
        b[0] = b[0]! ^ 0xff
        writeSync(fd, b, 0, 1, pos)
        at.push(pos)
      }
    } finally {
      closeSync(fd)
    }
    return `flipped ${n} bytes of ${file} (${size} B) at ${at.slice(0, 4).join(',')}...`
  }
  const truncate = (file: string, keep: number): string => {
    const full = path.join(dir, file)
    const size = statSync(full).size
    const len = Math.floor(size * keep)
    const fd = openSync(full, 'r+')
    try {
      ftruncateSync(fd, len)
    } finally {
      closeSync(fd)
    }
    return `truncated ${file} from ${size} to ${len} B`
  }
  switch (kind) {
    case 'flip_table': {
      const f = pick(/\.ldb$/)
      return f ? flip(f, 16) : `no table file (${files.join(' ')})`
    }
    case 'truncate_table': {
      const f = pick(/\.ldb$/)
      return f ? truncate(f, 0.5) : `no table file (${files.join(' ')})`
    }
    case 'flip_log': {
      const f = pick(/\.log$/)
      return f ? flip(f, 16) : `no log file (${files.join(' ')})`
    }
    case 'truncate_log': {
      const f = pick(/\.log$/)
      return f ? truncate(f, 0.3 + random() * 0.6) : `no log file (${files.join(' ')})`
    }
    case 'truncate_manifest': {
      const f = pick(/^MANIFEST-/)
      return f ? truncate(f, 0.5) : 'no MANIFEST'
    }
    case 'delete_current': {
      const f = path.join(dir, 'CURRENT')
      if (!existsSync(f)) return 'no CURRENT'
      unlinkSync(f)
      return 'deleted CURRENT'
    }
  }
}

