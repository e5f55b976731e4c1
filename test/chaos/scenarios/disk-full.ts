/**
 * Scenario 5: the disk fills up. The data directory is a small tmpfs; the broker is away from the
 * start, so everything the simulator produces has to stay on disk.
 *
 * - `drop_oldest` / `reject_new` / `block` with `maxBytes` well below the tmpfs: the store is full
 *   by its own accounting. The policy must be obeyed (which counter moves, whether the source is
 *   paused), drops counted in /metrics, /healthz must keep answering, and after the broker
 *   returns what arrives must be contiguous per device except for exactly the counted drops (one
 *   hole per device: a prefix for drop_oldest, the refused stretch for reject_new, none for block).
 * - `enospc`: `maxBytes` LARGER than the tmpfs, so the filesystem fills before maxBytes is
 *   reached. The store's free-space guard (gateway/store/disk-space-guard.ts, store.minFreeBytes)
 *   must treat the filesystem as the limit: whenFull (drop_oldest here) applies, every drop is
 *   counted as a policy drop (`store_full_oldest`, or `store_full_rejected` once even evictions
 *   would cost disk the filesystem does not have), LevelDB never meets ENOSPC (`store_error` 0, no
 *   "No space left" logged: after one, LevelDB refuses every write, acks included, until reopened),
 *   the process stays up, and once the broker has drained the backlog appends work again.
 *
 * Proves: promise 4 (bounded, every drop counted by reason), 1 (what was stored is intact: no
 * torn or corrupted entry arrives), and that a full disk is an operating condition, not a crash.
 */
import { MQTT_UPLINK, dropped, ingested, startChaosRig } from '../../support/chaos-rig.js'
import { diskUsage, mountTmpfs, unmountTmpfs } from '../../support/chaos-tmpfs.js'
import { check, newReport, shortSource, type Receipt, type ScenarioReport } from '../../support/chaos-verdict.js'
import type { AdminSnapshot } from '../../support/chaos-gateway.js'
import { finishRun, hold } from './common.js'

export type DiskFullPolicy = 'drop_oldest' | 'reject_new' | 'block' | 'enospc'

export interface DiskFullParams {
  policy: DiskFullPolicy
  /** tmpfs size, mount(8) syntax, e.g. '8m'. */
  tmpfsSize: string
  /** store.maxBytes (config syntax): below the tmpfs for the policies, above it for enospc. */
  maxBytes: string
  devices: number
  intervalMs: number
  padBytes: number
  /** Readings per device of the fast simulator (`sim`) that fills the store. */
  fillCountPerDevice: number
  /**
   * A second, slow simulator (`trickle`, one device every 50 ms) that keeps producing for this
   * long (ms), across the broker's return: proves appends work again after the drain. 0 = none.
   */
  trickleMs: number
  /** How long the store stays full (broker still away) once full, ms (deliberate). */
  holdFullMs: number
  /** Bound on reaching "full". */
  fillTimeoutMs: number
  /** Bound on the drain after the broker returns (beyond trickleMs). */
  drainTimeoutMs: number
}

/** The drop counters whose first increment means "full" (none for block: it drops nothing). */
const FULL_REASONS: Record<DiskFullPolicy, string[]> = {
  drop_oldest: ['store_full_oldest'], reject_new: ['store_full_rejected'], block: [], enospc: ['store_full_oldest', 'store_full_rejected'],
}

export async function runDiskFull(p: DiskFullParams): Promise<ScenarioReport> {
  const title = p.policy === 'enospc'
    ? `disk full: filesystem (${p.tmpfsSize} tmpfs) smaller than maxBytes ${p.maxBytes} (free-space guard, no ENOSPC)`
    : `disk full: whenFull=${p.policy}, maxBytes ${p.maxBytes} on a ${p.tmpfsSize} tmpfs, broker away`
  const report = newReport(title, { ...p })
  const rig = await startChaosRig({ prefix: 'eg-chaos-disk-' })
  const dataDir = rig.dataDir
  const mount = mountTmpfs(dataDir, p.tmpfsSize)
  try {
    if (!mount.mounted) {
      if (mount.mustFail) check(report, 'tmpfs mounted', false, mount.reason)
      else report.skipped = mount.reason
      return report
    }
    rig.writeConfig({
      sources: [
        { type: 'simulator', id: 'sim', devices: p.devices, intervalMs: p.intervalMs, count: p.fillCountPerDevice, padBytes: p.padBytes },
        ...(p.trickleMs > 0 ? [{ type: 'simulator', id: 'trickle', devices: 1, intervalMs: 50, count: Math.ceil(p.trickleMs / 50) }] : []),
      ],
      store: { maxBytes: p.maxBytes, whenFull: p.policy === 'enospc' ? 'drop_oldest' : p.policy, maxAge: '1d' },
    })
    await rig.broker!.stop()
    const gw = rig.startGateway(`disk full ${p.policy}`)
    let polls = 0
    let unanswered = 0
    const look = async (): Promise<AdminSnapshot> => {
      const s = await rig.admin.snapshot()
      polls++
      if (s.httpStatus === undefined) unanswered++
      return s
    }
    await rig.admin.waitFor((s) => s.httpStatus !== undefined, 20_000, 'admin endpoint up', { gateway: gw })

    // 1. Fill.
    const reasons = FULL_REASONS[p.policy]
    const reason = reasons.length > 0 ? reasons.join(' or ') : undefined
    const maxBytesNum = (await rig.admin.snapshot()).metrics.match(/^edge_gateway_store_max_bytes (\d+)/m)?.[1]
    // block: full = near maxBytes AND ingest stalled between two looks (the last appends that
    // still fit may land just after the 90% mark).
    let lastIngested = -1
    const isFull = (s: AdminSnapshot): boolean => {
      if (reason) return reasons.some((r) => dropped(s.metrics, r) > 0)
      const bytes = Number(s.metrics.match(/^edge_gateway_store_bytes (\d+)/m)?.[1] ?? 0)
      const now = ingested(s.metrics, 'sim')
      const stalled = now === lastIngested
      lastIngested = now
      return bytes > 0.9 * Number(maxBytesNum) && stalled
    }
    const fillStart = Date.now()
    let snap = await look()
    let full = isFull(snap)
    while (!full && gw.alive && Date.now() - fillStart < p.fillTimeoutMs) {
      await hold(reason ? 100 : 300) // polling an external process: no event to await
      snap = await look()
      full = isFull(snap)
    }
    const filled = check(report, `store became full (${reason ?? 'store_bytes > 90% of maxBytes, ingest stalled'})`, full,
      `after ${Date.now() - fillStart} ms; alive=${gw.alive}${full ? '' : `\n${gw.output().slice(-2000)}`}`)
    report.facts.fillMs = Date.now() - fillStart
    const usage = diskUsage(dataDir)
    if (usage) report.facts.tmpfsUsedKiB = Math.round(usage.usedBytes / 1024)

    // 2. Stay full for a while: the process must keep running and answering.
    const ingestedAtFull = ingested(snap.metrics, 'sim')
    const holdStart = Date.now()
    while (Date.now() - holdStart < p.holdFullMs && gw.alive) {
      await hold(200)
      snap = await look()
    }
    const ingestedAfterHold = ingested(snap.metrics, 'sim')
    const sourceState = snap.health?.components?.sources?.find((x) => x.id === 'sim')?.state
    if (p.policy === 'block') {
      // Backpressure: nothing is committed while full; readings wait in ingest (up to
      // ingest.maxPending, beyond which the source itself is paused).
      check(report, 'block: nothing committed while full, readings held in ingest',
        ingestedAfterHold === ingestedAtFull && (snap.ingestPending ?? 1) > 0, `ingested ${ingestedAtFull} -> ${ingestedAfterHold}, ingest pending ${snap.ingestPending}, source ${sourceState}`)
    }
    if (p.policy === 'drop_oldest' || p.policy === 'enospc') {
      // Exact accounting needs the producer finished before the broker returns (an eviction
      // racing a send could otherwise count an event that was also delivered).
      try {
        snap = await rig.admin.waitFor((s) => s.health?.components?.sources?.find((x) => x.id === 'sim')?.state === 'done', 30_000, 'simulator done while the broker is away', { gateway: gw })
      } catch (err) {
        check(report, 'simulator finished while the broker was away', false, (err as Error).message.slice(0, 500))
      }
    }
    check(report, 'process alive and /healthz answering throughout the full phase', gw.alive && unanswered === 0, `${unanswered}/${polls} polls unanswered, alive=${gw.alive}`)
    const atReturn = await look()
    report.facts.healthWhileFull = `${atReturn.httpStatus} ${atReturn.health?.status}`
    const ingestedAtReturn = ingested(atReturn.metrics, 'trickle')
    const storeErrorsAtReturn = dropped(atReturn.metrics, 'store_error')

    // 3. Broker back: drain, and (reject_new, enospc) appends must work again.
    await rig.broker!.restart()
    let drainedSnap: AdminSnapshot | undefined
    try {
      drainedSnap = await rig.waitDrained(gw, p.drainTimeoutMs + p.trickleMs)
    } catch {
      drainedSnap = await rig.admin.snapshot()
    }
    const drops = {
      store_full_oldest: dropped(drainedSnap.metrics, 'store_full_oldest'),
      store_full_rejected: dropped(drainedSnap.metrics, 'store_full_rejected'),
      store_error: dropped(drainedSnap.metrics, 'store_error'),
      expired: dropped(drainedSnap.metrics, 'expired'),
    }
    report.facts.drops = JSON.stringify(drops)
    const counted = drops.store_full_oldest + drops.store_full_rejected + drops.store_error
    const policyOk: Record<DiskFullPolicy, boolean> = {
      drop_oldest: drops.store_full_oldest > 0 && drops.store_full_rejected === 0 && drops.store_error === 0,
      reject_new: drops.store_full_rejected > 0 && drops.store_full_oldest === 0 && drops.store_error === 0,
      block: counted === 0,
      enospc: drops.store_error === 0 && drops.store_full_oldest + drops.store_full_rejected > 0,
    }
    check(report, `policy obeyed (${p.policy}): the right counter moved and no other`, policyOk[p.policy], JSON.stringify(drops))
    if (p.policy === 'enospc') {
      const enospc = [...gw.errors()].filter(([msg, { err }]) => /No space left/i.test(`${msg} ${err}`))
      check(report, 'LevelDB never met ENOSPC (the free-space guard applied whenFull first)', enospc.length === 0,
        enospc.map(([msg, { n, err }]) => `${msg} (x${n}: ${err})`).join('; ').slice(0, 800))
    }
    if (p.trickleMs > 0) {
      const after = ingested(drainedSnap.metrics, 'trickle')
      check(report, 'appends work again after the broker returned (the trickle source is stored again)', after > ingestedAtReturn,
        `trickle ingested ${ingestedAtReturn} at the broker's return -> ${after}; store_error ${storeErrorsAtReturn} -> ${drops.store_error}`)
    }
    if (!filled) report.facts.note = 'never became full: the rest of the checks say little'

    // enospc: the trickle keeps appending while the drain runs, and until LevelDB has compacted
    // what was sent the filesystem is still short of space, so a trickle reading may evict an
    // entry that is being sent (counted, and delivered too). Only those can make counted > lost.
    const trickleReadings = p.policy === 'enospc' ? Math.ceil(p.trickleMs / 50) : 0
    const { expected, verdicts } = await finishRun(rig, gw, report, {
      drainTimeoutMs: 10_000, interruptions: 1, countedDrops: counted, exactLoss: p.policy !== 'enospc',
    })
    if (p.policy === 'enospc') {
      const lost = verdicts.find((v) => v.receiver === MQTT_UPLINK)?.total.lost ?? 0
      check(report, `counted drops exceed lost by at most the trickle's readings (${trickleReadings}: evictions racing the drain)`, counted - lost <= trickleReadings,
        `counted ${counted}, lost ${lost}`)
    }
    // 4. Shape of the holes: contiguous except for the counted drops (the exact count is checked
    // above). drop_oldest must lose a prefix of each device (the oldest), block nothing. With
    // reject_new (and ENOSPC) a device may have more than one hole: a refused batch refuses the
    // rest of its telemetry, while a later small reading may still fit the space left.
    const receipts = rig.receipts().get(MQTT_UPLINK) ?? []
    const holes = holesPerDevice(receipts, expected)
    const shape = holes.map((h) => `${h.device}:[${h.ranges.map((r) => (r[0] === r[1] ? `${r[0]}` : `${r[0]}-${r[1]}`)).join(',')}]`).join(' ')
    if (p.policy === 'drop_oldest') {
      check(report, 'holes in what arrived: one per device, at the start (the oldest were dropped)', holes.every((h) => h.ranges.length <= 1 && h.ranges.every((r) => r[0] === 1)), shape.slice(0, 800))
    } else if (p.policy === 'block') {
      check(report, 'holes in what arrived: none (block drops nothing)', holes.every((h) => h.ranges.length === 0), shape.slice(0, 800))
    }
    report.facts.holes = shape.slice(0, 400)
    return report
  } finally {
    await rig.killGateways()
    if (mount.mounted) unmountTmpfs(dataDir)
    await rig.dispose()
  }
}

interface DeviceHoles {
  device: string
  ranges: Array<[number, number]>
}

/** Missing sequences of every expected source as [from, to] ranges. */
function holesPerDevice(receipts: readonly Receipt[], expected: ReadonlyMap<string, number>): DeviceHoles[] {
  const have = new Map<string, Set<number>>()
  for (const r of receipts) {
    if (r.sequence === undefined) continue
    let s = have.get(r.source)
    if (!s) have.set(r.source, (s = new Set()))
    s.add(r.sequence)
  }
  const out: DeviceHoles[] = []
  for (const [source, n] of expected) {
    const s = have.get(source) ?? new Set<number>()
    const ranges: Array<[number, number]> = []
    let start = 0
    for (let q = 1; q <= n + 1; q++) {
      const missing = q <= n && !s.has(q)
      if (missing && start === 0) start = q
      if (!missing && start !== 0) {
        ranges.push([start, q - 1])
        start = 0
      }
    }
    out.push({ device: shortSource(source), ranges })
  }
  return out
}
