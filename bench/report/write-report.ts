/**
 * `npm run bench -- --report`: after bench/run.ts has printed its figures, measures throughput
 * against the yardsticks, latency at 1k events/s, a 1M-event backlog drain, per-event CPU and disk
 * writes, with the measured process free on the machine and pinned to CPU 0 with taskset, in
 * adjacent pairs (measure.ts), and writes bench/REPORT.md with its SVG charts
 * (bench/report-*.svg). Takes about 10 minutes. Never asserts.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { tasksetAvailable, BENCH_DIST } from './child.js'
import { measureColumns, type ColumnSpec, type RunRecord, type Column } from './measure.js'
import { renderReport, type Conditions } from './render.js'

/** Each throughput and latency measurement runs this many times per column (best reported). */
const ROUNDS = 2

/** bench/ in the sources (REPORT.md lives there), from dist/bench. */
const BENCH_SRC = path.resolve(BENCH_DIST, '..', '..', 'bench')

/** Node processes other than this one and its parent (other engineers' test runs). */
function otherNodeProcesses(): number {
  let count = 0
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    if (Number(pid) === process.pid || Number(pid) === process.ppid) continue
    try {
      const argv0 = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? ''
      if (path.basename(argv0) === 'node') count++
    } catch {
      // exited meanwhile
    }
  }
  return count
}

/**
 * @param results what bench/run.ts measured in this run; the report uses only its start load
 *   average (`loadavg`), and measures everything it shows itself.
 * @param startedAt when bench/run.ts started, ISO; the report's run time is counted from there.
 */
export async function writeReport(results: Record<string, unknown>, startedAt: Date, log: (line: string) => void = console.log): Promise<void> {
  const loadStart = Array.isArray(results['loadavg']) ? (results['loadavg'] as number[]) : os.loadavg()
  const others = otherNodeProcesses()
  let load1Min = loadStart[0]!
  let load1Max = loadStart[0]!
  const loadTimer = setInterval(() => {
    const l = os.loadavg()[0]!
    load1Min = Math.min(load1Min, l)
    load1Max = Math.max(load1Max, l)
  }, 5000)
  loadTimer.unref()
  const specs: ColumnSpec[] = [{ label: '2 cores (shared)' }]
  if (tasksetAvailable()) specs.push({ label: '1 core (taskset -c 0)', pin: '0' })
  else log('[report] taskset not found (util-linux): no pinned column')
  let columns: Column[]
  let runs: RunRecord[]
  try {
    ;({ columns, runs } = await measureColumns(specs, ROUNDS, log))
  } finally {
    clearInterval(loadTimer)
  }
  const finished = new Date()
  const loadEnd = os.loadavg()
  const cond: Conditions = {
    startedAt: startedAt.toISOString(),
    finishedAt: finished.toISOString(),
    node: process.version,
    cpuModel: os.cpus()[0]?.model ?? 'unknown CPU',
    cpus: os.cpus().length,
    loadStart,
    loadEnd,
    load1Min: Math.min(load1Min, loadEnd[0]!),
    load1Max: Math.max(load1Max, loadEnd[0]!),
    otherNodeProcesses: others,
    minutes: (finished.getTime() - startedAt.getTime()) / 60_000,
  }
  for (const [name, content] of renderReport(columns, runs, cond)) writeFileSync(path.join(BENCH_SRC, name), content)
  writeFileSync(path.join(BENCH_DIST, 'report-columns.json'), JSON.stringify({ cond, columns, runs }, null, 2) + '\n')
  log(`wrote bench/REPORT.md and bench/report-*.svg (${cond.minutes.toFixed(1)} min in all)`)
}
