/**
 * The measurements behind bench/REPORT.md, per column: the measured process either free on
 * the shared machine or pinned with `taskset -c 0`. Every producer (pipeline, yardstick, gateway)
 * runs in a child process of its own; the peers (Mosquitto, AMQP peer, latency subscriber) run
 * unpinned in this process or as their own processes. Never asserts.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { freePort, startMosquitto, type MosquittoHandle } from '../../test/support/mosquitto.js'
import { benchEventHubs, type EventHubsBenchResult } from '../eventhubs-bench.js'
import { median, quantileSorted } from '../linear-fit.js'
import { BENCH_DIST, runJsonChild } from './child.js'
import { startLatencyProbe } from './latency-probe.js'

/**
 * The node flags the systemd unit starts the gateway with (its `Environment=NODE_OPTIONS=` line),
 * so the steady-rate figures are those of the gateway as installed. Read from the unit, so the
 * two cannot drift apart.
 */
export function unitNodeOptions(): string[] {
  const unit = readFileSync(path.resolve(BENCH_DIST, '..', '..', 'systemd', 'edge-gateway.service'), 'utf8')
  const line = /^Environment=NODE_OPTIONS=(.*)$/m.exec(unit)
  return line ? line[1]!.trim().split(/\s+/).filter(Boolean) : []
}

/** Events in the MQTT throughput run and the yardstick, as bench/run.ts. */
export const THROUGHPUT_EVENTS = 300_000
export const YARDSTICK_EVENTS = 100_000
/** Latency run: 100 devices every 100 ms = 1,000 events/s for STEADY_SECONDS. */
export const STEADY = { devices: 100, intervalMs: 100, seconds: 20, warmupTicks: 20 }
export const BACKLOG_EVENTS = 1_000_000

export interface MqttThroughput {
  pipelineEventsPerSec: number
  yardstickEventsPerSec: number
  cpuMicrosPerEvent: number
  peakRssMb: number
  writeBytesPerEvent: number
}

export interface Steady {
  events: number
  seconds: number
  cpuMicrosPerEvent: number
  cpuPctOfCore: number
  writeBytesPerEvent: number
  netWriteBytesPerEvent: number
  wcharPerEvent: number
  peakRssMb: number
  rssEndMb: number
  latency: { n: number; p50: number; p90: number; p99: number; max: number; received: number }
  /** [latency ms, % of events at or below], for the CDF chart (up to p99.9). */
  cdf: Array<[number, number]>
}

interface IoPerEvent {
  writeBytesPerEvent: number
  netWriteBytesPerEvent: number
  wcharPerEvent: number
}

export interface Drain {
  events: number
  backlogRssMb: number
  /** Settled RSS in the same process once the backlog is drained. */
  drainedRssMb: number
  ingestPerSec: number
  ingestCpuMicrosPerEvent: number
  ingest: IoPerEvent
  secondsToEmpty: number
  firstAckSec: number
  drainPerSec: number
  drainCpuMicrosPerEvent: number
  drain: IoPerEvent
  peakRssMb: number
  series: Array<[number, number]>
}

export interface Column {
  label: string
  pin?: string
  mqtt: MqttThroughput
  eventhubs: EventHubsBenchResult
  steady: Steady
  drain: Drain
  /** pipeline / yardstick of each run (both measured back to back in it), in run order. */
  ratios: { mqtt: number[]; eventhubs: number[] }
}

function tempDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'eg-report-'))
}

async function measureMqttThroughput(pin: string | undefined): Promise<MqttThroughput> {
  const broker = await startMosquitto()
  const dataDir = tempDir()
  try {
    const yard = await runJsonChild<{ eventsPerSec: number }>('report/report-worker.js', ['yardstick', broker.url, String(YARDSTICK_EVENTS), '100'], { pin })
    const pipe = await runJsonChild<{ eventsPerSec: number; cpuMicrosPerEvent: number; peakRssMb: number; writeBytesPerEvent: number }>(
      'pipeline-worker.js', ['throughput', broker.url, String(THROUGHPUT_EVENTS), dataDir], { pin, nodeArgs: ['--expose-gc'] })
    return { pipelineEventsPerSec: pipe.eventsPerSec, yardstickEventsPerSec: yard.eventsPerSec, cpuMicrosPerEvent: pipe.cpuMicrosPerEvent, peakRssMb: pipe.peakRssMb, writeBytesPerEvent: pipe.writeBytesPerEvent }
  } finally {
    await broker.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

async function measureSteady(pin: string | undefined): Promise<Steady> {
  const broker = await startMosquitto()
  const dataDir = tempDir()
  const count = (STEADY.seconds * 1000) / STEADY.intervalMs
  const total = STEADY.devices * count
  const probe = await startLatencyProbe(broker.url, 'edge/#', STEADY.warmupTicks)
  try {
    const run = await runJsonChild<Omit<Steady, 'latency' | 'cdf'>>('report/report-worker.js', ['steady', broker.url, String(STEADY.devices), String(STEADY.intervalMs), String(count), dataDir], { pin, nodeArgs: unitNodeOptions() })
    // Every event was PUBACKed; the subscriber's copies are at most moments behind.
    const deadline = Date.now() + 10_000
    while (probe.distinct() < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    const sorted = [...probe.latenciesMs].sort((a, b) => a - b)
    const q = (p: number): number => quantileSorted(sorted, p)
    const cdf: Array<[number, number]> = []
    for (let i = 0; i <= 200; i++) {
      const p = (i / 200) * 0.999
      cdf.push([q(p), p * 100])
    }
    return { ...run, latency: { n: sorted.length, p50: q(0.5), p90: q(0.9), p99: q(0.99), max: sorted.at(-1) ?? Number.NaN, received: probe.distinct() }, cdf }
  } finally {
    await probe.close()
    await broker.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

async function measureDrain(pin: string | undefined): Promise<Drain> {
  const port = await freePort()
  const dataDir = tempDir()
  let broker: MosquittoHandle | undefined
  try {
    return await runJsonChild<Drain>('report/report-worker.js', ['drain', `mqtt://127.0.0.1:${port}`, String(BACKLOG_EVENTS), dataDir], {
      pin,
      nodeArgs: ['--expose-gc'],
      onMessage: async (msg, send) => {
        if (msg['phase'] !== 'queued') return
        broker = await startMosquitto({ port })
        send('go')
      },
    })
  } finally {
    await broker?.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

export interface ColumnSpec {
  label: string
  /** CPU list for taskset; unset = not pinned. */
  pin?: string
}

/** One measurement as it happened, for the report's appendix. */
export interface RunRecord {
  kind: 'mqtt' | 'eventhubs' | 'steady' | 'drain'
  column: string
  round: number
  /** 1-minute load average when it started. */
  load1: number
  summary: string
}

const fmt = (v: number, digits = 0): string => v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })

function bestBy<T>(items: T[], score: (t: T) => number): T {
  return items.reduce((a, b) => (score(b) > score(a) ? b : a))
}

/**
 * Measures every column. The load on a shared machine drifts by the minute, so each kind of
 * measurement runs for all columns back to back, `rounds` times, in ABBA order (round 2 reversed);
 * a column reports its best run (throughput: highest rate, each figure from the run that
 * achieved it; latency: the run with the lowest p99). The 1M backlog runs once per column.
 */
export async function measureColumns(specs: ColumnSpec[], rounds: number, log: (line: string) => void): Promise<{ columns: Column[]; runs: RunRecord[] }> {
  const runs: RunRecord[] = []
  const per = new Map(specs.map((s) => [s.label, { mqtt: [] as MqttThroughput[], eventhubs: [] as EventHubsBenchResult[], steady: [] as Steady[], drain: [] as Drain[] }]))
  const paired = async (kind: RunRecord['kind'], n: number, measure: (spec: ColumnSpec) => Promise<string>): Promise<void> => {
    for (let round = 1; round <= n; round++) {
      for (const spec of round % 2 === 1 ? specs : [...specs].reverse()) {
        const load1 = os.loadavg()[0]!
        log(`[report] ${kind} round ${round}, ${spec.label} (load ${load1.toFixed(2)})`)
        runs.push({ kind, column: spec.label, round, load1, summary: await measure(spec) })
      }
    }
  }
  await paired('mqtt', rounds, async (spec) => {
    const r = await measureMqttThroughput(spec.pin)
    per.get(spec.label)!.mqtt.push(r)
    return `pipeline ${fmt(r.pipelineEventsPerSec)} ev/s, mqtt.js ${fmt(r.yardstickEventsPerSec)} ev/s, ${fmt(r.cpuMicrosPerEvent, 1)} µs/event`
  })
  await paired('eventhubs', rounds, async (spec) => {
    const r = await benchEventHubs({ pin: spec.pin })
    per.get(spec.label)!.eventhubs.push(r)
    return `pipeline ${fmt(r.pipelineEventsPerSec)} ev/s, raw SDK ${fmt(r.rawSdkEventsPerSec)} ev/s (${r.rawSdkRunsEventsPerSec.map((v) => fmt(v)).join(' / ')}); batch mode ${fmt(r.batch.pipelineEventsPerSec)} ev/s (${fmt(r.batch.pipelineEventsPerSec / r.rawSdkEventsPerSec, 2)}x), drain ${fmt(r.drainEventsPerSec)} / batch ${fmt(r.batch.drainEventsPerSec)} ev/s`
  })
  await paired('steady', rounds, async (spec) => {
    const r = await measureSteady(spec.pin)
    per.get(spec.label)!.steady.push(r)
    return `p50 ${r.latency.p50} ms, p90 ${r.latency.p90} ms, p99 ${r.latency.p99} ms, max ${r.latency.max} ms, ${fmt(r.cpuMicrosPerEvent, 1)} µs/event`
  })
  await paired('drain', 1, async (spec) => {
    const r = await measureDrain(spec.pin)
    per.get(spec.label)!.drain.push(r)
    return `ingest ${fmt(r.ingestPerSec)} ev/s, drain ${fmt(r.drainPerSec)} ev/s, empty after ${fmt(r.secondsToEmpty, 1)} s`
  })
  const columns = specs.map((spec): Column => {
    const m = per.get(spec.label)!
    const mqtt = { ...bestBy(m.mqtt, (r) => r.pipelineEventsPerSec), yardstickEventsPerSec: Math.max(...m.mqtt.map((r) => r.yardstickEventsPerSec)) }
    // Event Hubs' default path: the median of every live run of the column against the median of
    // every yardstick run of it (each round alternates them). The other paths ran once per round:
    // their figures are the round's with the best default-path figure, as for MQTT.
    const ehBest = bestBy(m.eventhubs, (r) => r.pipelineEventsPerSec)
    const pipelineEventsPerSec = median(m.eventhubs.flatMap((r) => r.pipelineRunsEventsPerSec))
    const rawSdkEventsPerSec = median(m.eventhubs.flatMap((r) => r.rawSdkRunsEventsPerSec))
    const eventhubs = { ...ehBest, pipelineEventsPerSec, rawSdkEventsPerSec, ratio: pipelineEventsPerSec / rawSdkEventsPerSec }
    const ratios = { mqtt: m.mqtt.map((r) => r.pipelineEventsPerSec / r.yardstickEventsPerSec), eventhubs: m.eventhubs.flatMap((r) => r.runRatios) }
    return { label: spec.label, pin: spec.pin, mqtt, eventhubs, steady: bestBy(m.steady, (r) => -r.latency.p99), drain: m.drain[0]!, ratios }
  })
  return { columns, runs }
}
