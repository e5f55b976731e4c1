/**
 * What every chaos scenario does at the end: let the gateway drain, stop it cleanly, read back
 * what it made durable, wait for the receivers, and judge.
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ChaosRig } from '../../support/chaos-rig.js'
import { errorSummary, metricSum, type AdminSnapshot, type GatewayProcess } from '../../support/chaos-gateway.js'
import { check, missingRanges, type ReceiverVerdict, type ScenarioReport } from '../../support/chaos-verdict.js'

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..')

export interface FinishOptions {
  /** Bound on waiting for "sources done, queues empty". */
  drainTimeoutMs: number
  /** Interruptions the gateway went through (kills, outages, resets): the duplicate bound is this × window. */
  interruptions: number
  /**
   * Sequences the gateway dropped on purpose and counted (whenFull, store_error). Lost must
   * equal this exactly when `exactLoss`, else be at most this. @default 0
   */
  countedDrops?: number
  /** @default false */
  exactLoss?: boolean
  /** Bound on waiting for the receivers to hold every expected sequence. @default 20000 */
  receiveTimeoutMs?: number
  /** Wait for every source to be `done` before the stop (false: queues empty is enough). @default true */
  sourcesDone?: boolean
}

export interface FinishResult {
  expected: Map<string, number>
  verdicts: ReceiverVerdict[]
  /** The admin snapshot when drained (undefined when it never drained). */
  drained: AdminSnapshot | undefined
  /** The last admin snapshot before the stop, drained or not. */
  last: AdminSnapshot
}

/** Sleeps for a scenario's deliberate duration (an outage, a hold): never used to await an event. */
export function hold(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/**
 * Waits for the drain, SIGTERMs the gateway (must exit 0), reads the store's counters, waits for
 * the receivers and records the verdicts and the standard checks on `report`.
 */
export async function finishRun(rig: ChaosRig, gw: GatewayProcess, report: ScenarioReport, opts: FinishOptions): Promise<FinishResult> {
  let drained: AdminSnapshot | undefined
  try {
    drained = await rig.waitDrained(gw, opts.drainTimeoutMs, opts.sourcesDone ?? true)
    check(report, `drained: ${opts.sourcesDone ?? true ? 'every source done and ' : ''}every uplink queue empty`, true)
  } catch (err) {
    check(report, `drained: ${opts.sourcesDone ?? true ? 'every source done and ' : ''}every uplink queue empty`, false, (err as Error).message.slice(0, 1500))
  }
  const last = drained ?? (await rig.admin.snapshot())
  const ingestedLastRun = metricSum(last.metrics, 'edge_gateway_events_ingested_total')
  report.facts.ingestedLastRun = ingestedLastRun
  const exit = await gw.stop(15_000)
  const errors = errorSummary(gw)
  if (errors) report.facts.errorsLogged = errors
  check(report, 'clean stop (SIGTERM) exits 0', exit.code === 0, `exit ${JSON.stringify(exit)}${exit.code === 0 ? '' : `\n${gw.output().slice(-3000)}`}`)
  let expected: Map<string, number>
  let held: Map<string, Set<string>> | undefined
  let readBack = true
  try {
    const state = await rig.storedState()
    expected = state.counters
    held = state.held
    const queued = [...state.held.values()].reduce((n, h) => n + h.size, 0)
    check(report, 'the store is empty after the drained stop (nothing left queued)', queued === 0, queued === 0 ? '' :
      `${[...state.held].map(([u, h]) => `${u}: ${h.size}`).join(', ')} still queued (they are sent after the next start; the verdict counts them as held, not lost)`)
  } catch (err) {
    // The store cannot even be read back (e.g. a disk still full): judge against the highest
    // sequence that arrived instead, which still finds gaps but not a lost tail.
    check(report, 'store readable after the stop (counters read back)', false, `${(err as Error).message}; ${String((err as Error).cause ?? '')}`)
    readBack = false
    expected = highestReceived(rig)
    const got = Math.min(...[...rig.distinct().values()])
    check(report, 'every event made durable by the last run was delivered (from /metrics, since the store cannot tell)', got >= ingestedLastRun,
      `ingested ${ingestedLastRun} by the last run, ${got} distinct delivered in total; the verdict below is judged against the highest sequence received only`)
  }
  report.facts.sources = expected.size
  report.facts.durableEvents = [...expected.values()].reduce((a, b) => a + b, 0)
  const heldCount = held ? Math.max(0, ...[...held.values()].map((h) => h.size)) : 0
  const complete = await rig.waitReceived(expected, opts.receiveTimeoutMs ?? 20_000, (opts.countedDrops ?? 0) + heldCount)
  const verdicts = rig.judge(expected, held)
  report.verdicts.push(...verdicts)
  standardChecks(rig, report, verdicts, expected, opts, complete, readBack)
  return { expected, verdicts, drained, last }
}

function standardChecks(
  rig: ChaosRig, report: ScenarioReport, verdicts: ReceiverVerdict[], expected: Map<string, number>, opts: FinishOptions, complete: boolean,
  readBack: boolean,
): void {
  const counted = opts.countedDrops ?? 0
  const receipts = rig.receipts()
  for (const v of verdicts) {
    const t = v.total
    const where = v.devices.filter((d) => d.lost > 0).slice(0, 4)
      .map((d) => `${d.device}: missing ${missingRanges(receipts.get(v.receiver) ?? [], [...expected.keys()].find((s) => s.endsWith(d.device))!, d.expected)}`)
      .join('; ')
    // Without the store's counters "lost" means only gaps below the highest sequence received;
    // the ingested-vs-delivered check above stands in for it.
    if (!readBack) report.facts[`${v.receiver}GapsBelowHighestReceived`] = t.lost
    else if (counted === 0) check(report, `${v.receiver}: lost = 0`, t.lost === 0, `lost ${t.lost}${complete ? '' : ' (receivers incomplete after waiting)'} ${where}`)
    else if (opts.exactLoss) check(report, `${v.receiver}: lost = counted drops (${counted})`, t.lost === counted, `lost ${t.lost} ${where}`)
    else check(report, `${v.receiver}: lost <= counted drops (${counted})`, t.lost <= counted, `lost ${t.lost} ${where}`)
    check(report, `${v.receiver}: reordered = 0 (order per device)`, t.reordered === 0, `reordered ${t.reordered}`)
    const w = rig.windowOf(v.receiver)
    const bound = opts.interruptions * w.maxInFlight * w.maxEvents
    check(report, `${v.receiver}: duplicated <= ${opts.interruptions} interruptions × ${w.maxInFlight} × ${w.maxEvents} = ${bound}`, t.duplicated <= bound, `duplicated ${t.duplicated}`)
    check(report, `${v.receiver}: nothing unexpected, nothing beyond the durable counter`, v.unexpected === 0 && t.beyond === 0, `unexpected ${v.unexpected}, beyond ${t.beyond}`)
  }
}

/** Highest sequence per source over every receiver. */
export function highestReceived(rig: ChaosRig): Map<string, number> {
  const m = new Map<string, number>()
  for (const list of rig.receipts().values()) {
    for (const r of list) if (r.sequence !== undefined) m.set(r.source, Math.max(m.get(r.source) ?? 0, r.sequence))
  }
  return m
}
