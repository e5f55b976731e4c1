/**
 * Chaos verdicts: what a receiver got, judged per device from CloudEvent `source` + `sequence`
 * only (never from what the gateway says it sent), and the report every scenario returns.
 *
 * Per device (CloudEvent source), against `expected` = the highest sequence the gateway made
 * durable (read back from its store after the run, see chaos-rig.ts):
 * - delivered:  distinct sequences 1..expected received;
 * - lost:       expected − delivered (sequences never received);
 * - duplicated: receipts of a sequence already received;
 * - reordered:  first receipts whose sequence is below one already received for that device;
 * - beyond:     distinct sequences above `expected` (the expectation was wrong: a bug either way).
 *
 * No vitest import: compiled with the build (tsconfig.build.json includes test/support).
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'

export interface Receipt {
  source: string
  sequence: number | undefined
  id: string
  /** CloudEvent `time` (the reading's time), ms; NaN when absent. */
  timeMs: number
}

export interface DeviceVerdict {
  receiver: string
  /** CloudEvent source, shortened to `sourceId/deviceId` for the table. */
  device: string
  expected: number
  delivered: number
  lost: number
  /** Never received but still queued in the store at the stop (sent after the next start): not lost. */
  held: number
  duplicated: number
  reordered: number
  beyond: number
}

export interface ReceiverVerdict {
  receiver: string
  devices: DeviceVerdict[]
  total: DeviceVerdict
  /** Receipts without a decimal `sequence`, or from a source not expected at all. */
  unexpected: number
  /** The first few reorders: `sim/sim-0001 #1234 first arrived after #1240 (receipt 5012)`. */
  reorderExamples: string[]
}

/** `/gateways/gw/sim/sim-0001` → `sim/sim-0001`. */
export function shortSource(source: string): string {
  const parts = source.split('/')
  return parts.length >= 5 ? parts.slice(3).join('/') : source
}

/**
 * Judges `receipts` against `expected` (source → highest durable sequence). `held`
 * (`source#sequence`) are still queued in the store: missing but not lost.
 */
export function judge(receiver: string, receipts: readonly Receipt[], expected: ReadonlyMap<string, number>, held?: ReadonlySet<string>): ReceiverVerdict {
  const seen = new Map<string, Set<number>>()
  const maxSeen = new Map<string, number>()
  const dup = new Map<string, number>()
  const reo = new Map<string, number>()
  let unexpected = 0
  const reorderExamples: string[] = []
  for (const [index, r] of receipts.entries()) {
    if (!expected.has(r.source) || r.sequence === undefined) {
      unexpected++
      continue
    }
    let s = seen.get(r.source)
    if (!s) seen.set(r.source, (s = new Set()))
    if (s.has(r.sequence)) {
      dup.set(r.source, (dup.get(r.source) ?? 0) + 1)
      continue
    }
    s.add(r.sequence)
    const max = maxSeen.get(r.source) ?? 0
    if (r.sequence < max) {
      reo.set(r.source, (reo.get(r.source) ?? 0) + 1)
      if (reorderExamples.length < 8) reorderExamples.push(`${shortSource(r.source)} #${r.sequence} first arrived after #${max} (receipt ${index})`)
    } else maxSeen.set(r.source, r.sequence)
  }
  const devices: DeviceVerdict[] = []
  for (const [source, n] of [...expected].sort(([a], [b]) => a.localeCompare(b))) {
    let delivered = 0
    let beyond = 0
    const got = seen.get(source) ?? new Set<number>()
    for (const seq of got) {
      if (seq >= 1 && seq <= n) delivered++
      else beyond++
    }
    let stillHeld = 0
    if (held && held.size > 0) for (let q = 1; q <= n; q++) if (!got.has(q) && held.has(`${source}#${q}`)) stillHeld++
    devices.push({
      receiver, device: shortSource(source), expected: n, delivered, lost: n - delivered - stillHeld, held: stillHeld,
      duplicated: dup.get(source) ?? 0, reordered: reo.get(source) ?? 0, beyond,
    })
  }
  const total: DeviceVerdict = { receiver, device: 'TOTAL', expected: 0, delivered: 0, lost: 0, held: 0, duplicated: 0, reordered: 0, beyond: 0 }
  for (const d of devices) {
    total.expected += d.expected
    total.delivered += d.delivered
    total.lost += d.lost
    total.held += d.held
    total.duplicated += d.duplicated
    total.reordered += d.reordered
    total.beyond += d.beyond
  }
  return { receiver, devices, total, unexpected, reorderExamples }
}

/** Missing sequences of one source in 1..expected, as compact ranges (`3-9, 12`), for diagnostics. */
export function missingRanges(receipts: readonly Receipt[], source: string, expected: number, limit = 10): string {
  const have = new Set<number>()
  for (const r of receipts) if (r.source === source && r.sequence !== undefined) have.add(r.sequence)
  const out: string[] = []
  let start = 0
  for (let s = 1; s <= expected + 1; s++) {
    const missing = s <= expected && !have.has(s)
    if (missing && start === 0) start = s
    if (!missing && start !== 0) {
      out.push(start === s - 1 ? `${start}` : `${start}-${s - 1}`)
      start = 0
      if (out.length >= limit) return `${out.join(', ')}, ...`
    }
  }
  return out.join(', ')
}

export interface Check {
  name: string
  ok: boolean
  detail: string
}

export interface ScenarioReport {
  scenario: string
  params: Record<string, unknown>
  verdicts: ReceiverVerdict[]
  checks: Check[]
  /** Observations worth printing (counters, timings). */
  facts: Record<string, string | number | boolean>
  /** Set when the scenario could not run here (and why). */
  skipped?: string
}

export function newReport(scenario: string, params: Record<string, unknown>): ScenarioReport {
  return { scenario, params, verdicts: [], checks: [], facts: {} }
}

/** Records a check; returns `ok` so a scenario can branch on it. */
export function check(report: ScenarioReport, name: string, ok: boolean, detail = ''): boolean {
  report.checks.push({ name, ok, detail })
  return ok
}

export function failures(report: ScenarioReport): Check[] {
  return report.checks.filter((c) => !c.ok)
}

function row(cells: Array<string | number>): string {
  return `| ${cells.join(' | ')} |`
}

/** The verdict table (markdown), one row per device and receiver plus a TOTAL row per receiver. */
export function verdictTable(verdicts: readonly ReceiverVerdict[], perDevice = true): string {
  const lines = [
    row(['receiver', 'device', 'expected', 'delivered', 'lost', 'duplicated', 'reordered']),
    row(['---', '---', '---:', '---:', '---:', '---:', '---:']),
  ]
  for (const v of verdicts) {
    for (const d of [...(perDevice ? v.devices : []), v.total]) {
      const bold = d.device === 'TOTAL'
      const name = bold ? '**TOTAL**' : d.device
      lines.push(row([d.receiver, name, d.expected, d.delivered, d.lost + (d.held ? ` (+${d.held} still queued)` : ''), d.duplicated, d.reordered + (d.beyond ? ` (+${d.beyond} beyond)` : '')]))
    }
    if (v.unexpected > 0) lines.push(row([v.receiver, '(unexpected source or no sequence)', '', v.unexpected, '', '', '']))
  }
  return lines.join('\n')
}

/** The whole report as markdown: params, verdict table, facts, checks. */
export function formatReport(report: ScenarioReport, perDevice = true): string {
  const out = [`### ${report.scenario}`, '']
  if (report.skipped) return [...out, `SKIPPED: ${report.skipped}`, ''].join('\n')
  out.push(`params: \`${JSON.stringify(report.params)}\``, '')
  if (report.verdicts.length > 0) out.push(verdictTable(report.verdicts, perDevice), '')
  for (const v of report.verdicts) {
    if (v.reorderExamples.length > 0) out.push(`${v.receiver} reorders: ${v.reorderExamples.join('; ')}`, '')
  }
  const facts = Object.entries(report.facts)
  if (facts.length > 0) out.push(`facts: ${facts.map(([k, v]) => `${k}=${v}`).join(', ')}`, '')
  for (const c of report.checks) out.push(`- ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}${c.detail ? `: ${c.detail}` : ''}`)
  out.push('')
  return out.join('\n')
}

/**
 * Prints the report and writes it to `test-artifacts/chaos/<tag>/<scenario>.md` (gitignored), so
 * the README's "last run" table can be refreshed from a real run.
 */
export function publishReport(report: ScenarioReport, tag: string, rootDir: string): string {
  const text = formatReport(report, report.verdicts.reduce((n, v) => n + v.devices.length, 0) <= 24)
  console.log(`\n${text}`)
  const dir = path.join(rootDir, 'test-artifacts', 'chaos', tag)
  mkdirSync(dir, { recursive: true })
  const slug = report.scenario.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')
  writeFileSync(path.join(dir, `${slug}.md`), text)
  return text
}

/** Deterministic PRNG (mulberry32) so a failing random schedule can be replayed with its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** CHAOS_SEED from the environment, or a fresh one. */
export function chaosSeed(): number {
  const env = process.env.CHAOS_SEED
  return env && /^\d+$/.test(env) ? Number(env) : Math.floor(Math.random() * 2 ** 31)
}
