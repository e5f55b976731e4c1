/**
 * The soak's verdict from its samples: delivery (lost must be 0) and flatness (leak checks, not
 * timing). Flatness looks at the second half of the run, after warm-up (JIT, LevelDB caches and
 * memtables, the first outage's buffers): a least-squares line through RSS and fds there, and the
 * second half's peaks against the first half's. Pure; formatting included.
 */
import type { Verdict } from '../../test/support/collector.js'
import { fitLine } from '../linear-fit.js'

export interface SoakSample {
  /** Seconds since the gateway was started. */
  tSec: number
  brokerUp: boolean
  /** VmRSS of the gateway process, MiB. */
  rssMb: number
  /** Entries of /proc/PID/fd of the gateway process. */
  fds: number
  /** Allocated size of the data dir (du), MiB. */
  duMb: number
  /** edge_gateway_store_bytes, MiB (NaN when the scrape failed). */
  storeMb: number
  /** edge_gateway_queue_depth of the uplink (NaN when the scrape failed). */
  queueDepth: number
  ingested: number
  forwarded: number
  /** Cumulative write_bytes of the gateway process (/proc/PID/io), MiB. */
  writtenMb: number
}

export interface FlatnessLimits {
  /** Final fds may exceed the warm-up (first-half) maximum by at most this many. @default 2 */
  fdMargin?: number
  /** Second-half RSS peak minus first-half RSS peak must stay below this, MiB. @default 15 */
  rssGrowthMb?: number
}

export interface SeriesFlatness {
  /** Least-squares slope over the second half, per minute. */
  slopePerMin: number
  firstHalfMax: number
  secondHalfMax: number
  final: number
}

export interface SoakVerdict {
  delivery: Verdict & { expected: number }
  rss: SeriesFlatness & { growthMb: number }
  fds: SeriesFlatness
  duMb: SeriesFlatness
  storeMb: SeriesFlatness
  /** Each check with its outcome, in print order. */
  checks: Array<{ name: string; ok: boolean; detail: string }>
  ok: boolean
}

function flatness(samples: readonly SoakSample[], pick: (s: SoakSample) => number): SeriesFlatness {
  const end = samples.at(-1)?.tSec ?? 0
  const first = samples.filter((s) => s.tSec < end / 2).map(pick).filter(Number.isFinite)
  const secondSamples = samples.filter((s) => s.tSec >= end / 2 && Number.isFinite(pick(s)))
  const fit = fitLine(secondSamples.map((s) => [s.tSec / 60, pick(s)] as const))
  return {
    slopePerMin: fit.slope,
    firstHalfMax: first.length ? Math.max(...first) : Number.NaN,
    secondHalfMax: secondSamples.length ? Math.max(...secondSamples.map(pick)) : Number.NaN,
    final: samples.length ? pick(samples.at(-1)!) : Number.NaN,
  }
}

/**
 * @param exitCode the gateway's exit code after SIGTERM (must be 0: a clean stop).
 */
export function soakVerdict(samples: readonly SoakSample[], delivery: Verdict & { expected: number }, exitCode: number | null, limits: FlatnessLimits = {}): SoakVerdict {
  const fdMargin = limits.fdMargin ?? 2
  const rssLimit = limits.rssGrowthMb ?? 15
  const rss = flatness(samples, (s) => s.rssMb)
  const fds = flatness(samples, (s) => s.fds)
  const growthMb = rss.secondHalfMax - rss.firstHalfMax
  const checks = [
    { name: 'lost = 0', ok: delivery.lost === 0, detail: `${delivery.delivered}/${delivery.expected} delivered, lost ${delivery.lost}, duplicated ${delivery.duplicated}, reordered ${delivery.reordered}` },
    { name: 'no unexpected events', ok: delivery.unexpected === 0, detail: `unexpected ${delivery.unexpected}` },
    { name: `fds: final <= warm-up max + ${fdMargin}`, ok: fds.final <= fds.firstHalfMax + fdMargin, detail: `final ${fds.final}, warm-up max ${fds.firstHalfMax}, slope ${fds.slopePerMin.toFixed(3)}/min` },
    { name: `RSS: 2nd-half max - 1st-half max < ${rssLimit} MB`, ok: growthMb < rssLimit, detail: `${growthMb.toFixed(1)} MB (${rss.firstHalfMax.toFixed(1)} -> ${rss.secondHalfMax.toFixed(1)}), slope ${rss.slopePerMin.toFixed(3)} MB/min` },
    { name: 'gateway exits 0 on SIGTERM', ok: exitCode === 0, detail: `exit code ${exitCode}` },
  ]
  return {
    delivery,
    rss: { ...rss, growthMb },
    fds,
    duMb: flatness(samples, (s) => s.duMb),
    storeMb: flatness(samples, (s) => s.storeMb),
    checks,
    ok: checks.every((c) => c.ok),
  }
}

const COLUMNS: Array<[string, (s: SoakSample) => string]> = [
  ['t s', (s) => s.tSec.toFixed(0)],
  ['broker', (s) => (s.brokerUp ? 'up' : 'DOWN')],
  ['RSS MB', (s) => s.rssMb.toFixed(1)],
  ['fds', (s) => String(s.fds)],
  ['du MB', (s) => s.duMb.toFixed(2)],
  ['store MB', (s) => (Number.isFinite(s.storeMb) ? s.storeMb.toFixed(2) : '-')],
  ['depth', (s) => (Number.isFinite(s.queueDepth) ? String(s.queueDepth) : '-')],
  ['ingested', (s) => String(s.ingested)],
  ['forwarded', (s) => String(s.forwarded)],
  ['written MB', (s) => s.writtenMb.toFixed(1)],
]

function bytesPerEvent(samples: readonly SoakSample[]): string {
  const last = samples.at(-1)
  return last && last.ingested > 0 ? ((last.writtenMb * 2 ** 20) / last.ingested).toFixed(0) : '-'
}

/** The sample table (at most `maxRows` rows, evenly spaced, always the last) and the verdict. */
export function formatSoak(samples: readonly SoakSample[], verdict: SoakVerdict, maxRows = 60): string {
  const step = Math.max(1, Math.ceil(samples.length / maxRows))
  const rows = samples.filter((_, i) => i % step === 0 || i === samples.length - 1)
  const cells = [COLUMNS.map(([h]) => h), ...rows.map((s) => COLUMNS.map(([, f]) => f(s)))]
  const widths = COLUMNS.map((_, c) => Math.max(...cells.map((r) => r[c]!.length)))
  const lines = cells.map((r) => r.map((v, c) => v.padStart(widths[c]!)).join('  '))
  const f = (s: SeriesFlatness, unit: string): string =>
    `1st-half max ${s.firstHalfMax.toFixed(2)}, 2nd-half max ${s.secondHalfMax.toFixed(2)}, final ${s.final.toFixed(2)}, 2nd-half slope ${s.slopePerMin.toFixed(3)} ${unit}/min`
  lines.push(
    '',
    `RSS (MB):      ${f(verdict.rss, 'MB')}`,
    `fds:           ${f(verdict.fds, 'fds')}`,
    `data dir (du): ${f(verdict.duMb, 'MB')}`,
    `store_bytes:   ${f(verdict.storeMb, 'MB')}`,
    `disk writes:   ${bytesPerEvent(samples)} bytes/event (write_bytes of the gateway process / events ingested)`,
    ...verdict.checks.map((c) => `${c.ok ? 'PASS' : 'FAIL'}  ${c.name}: ${c.detail}`),
    `verdict: ${verdict.ok ? 'PASS' : 'FAIL'}`,
  )
  return lines.join('\n')
}
