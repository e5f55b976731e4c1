/**
 * Event Hubs throughput: the durable pipeline (simulator → LevelStore → forwarder →
 * EventHubsUplink → peer, every batch accepted) against the raw SDK (createBatch / tryAdd /
 * sendBatch, no store) on the same local AMQP peer, the same number of events, in the same run.
 * The pipeline runs in structured mode (the same AMQP messages as the yardstick), in batch mode
 * (the same events in JSON batch documents: fewer, larger AMQP messages) and in binary mode (the
 * uplink's default: attributes as application properties).
 *
 * Both producers run in a child process of their own (pipeline-worker.js scenario `eventhubs`,
 * eventhubs-yardstick-worker.js) while the peer runs here, so neither shares its event loop with
 * the peer. Call from bench/run.ts after `npm run build` (it spawns the compiled workers next to
 * this file). Prints nothing; never asserts.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { startEventHubsPeer, type EventHubsPeer } from '../test/support/eventhubs-peer.js'
import { median } from './linear-fit.js'

const here = path.dirname(fileURLToPath(import.meta.url))

/** Events timed per run, and devices (= partition keys) they are spread over, as in the MQTT bench. */
export const EVENTS = 100_000
const DEVICES = 100
/**
 * Events both producers send before their clock starts. A fresh process spends its first second or
 * so compiling: measured, the pipeline's process ran 263 TurboFan compiles (~1.3 s of compiler
 * threads) in a 100,000-event run, and reached ~0.85x of the yardstick cold but ~1.0x over
 * 300,000 events. A gateway forwards for months, so both sides are timed warm.
 */
export const WARM_UP = 50_000
/**
 * Live structured runs of the default path, each followed by a yardstick run (Y P Y P Y P Y). On
 * this shared VM one run moves by ±25%, so the figures are medians of these.
 */
export const LIVE_RUNS = 3

export interface EventHubsBenchResult {
  /**
   * Simulator → store → Event Hubs uplink → peer, all accepted, events/s: EVENTS events, from the
   * end of the warm-up (WARM_UP events forwarded) until EVENTS more were; the median of LIVE_RUNS.
   */
  pipelineEventsPerSec: number
  /** Each live run of the default path, events/s, in run order. */
  pipelineRunsEventsPerSec: number[]
  /**
   * Raw EventHubProducerClient on pre-built events, events/s (connected, and WARM_UP events sent,
   * before the clock starts): the median of the LIVE_RUNS + 1 runs around the live runs.
   */
  rawSdkEventsPerSec: number
  /** Every yardstick run, events/s, in run order (one before each live run and one after the last). */
  rawSdkRunsEventsPerSec: number[]
  /** pipeline / raw SDK (median / median); target >= 0.9. */
  ratio: number
  /** Each live run against the mean of the yardstick runs just before and after it. */
  runRatios: number[]
  /** The pipeline's warm-up (the first WARM_UP events of a fresh process), events/s. */
  pipelineColdEventsPerSec: number
  /** The raw SDK's warm-up (the first WARM_UP events of a fresh process), events/s; median of its runs. */
  rawSdkColdEventsPerSec: number
  /** pipelineColdEventsPerSec / rawSdkColdEventsPerSec: both sides before the JIT has compiled them. */
  coldRatio: number
  /** CPU of the pipeline process per timed event, µs. */
  pipelineCpuMicrosPerEvent: number
  /** CPU of the raw SDK process per timed event, µs. */
  rawSdkCpuMicrosPerEvent: number
  /**
   * CPU of the local peer per event while the raw SDK ran, µs. The peer shares the machine with
   * the producer; if this approaches the producer's own figure on 2 cores, the yardstick is
   * bounded by the peer, not by the SDK.
   */
  rawSdkPeerCpuMicrosPerEvent: number
  /** CPU of the local peer per event while the structured pipeline ran (same peer, same events), µs. */
  pipelinePeerCpuMicrosPerEvent: number
  /** Peak RSS of the pipeline process, MiB. */
  pipelinePeakRssMb: number
  /**
   * Drain of a stored backlog (BACKLOG events queued while the peer was down) through the uplink
   * once the peer is back: store → forwarder → EventHubsUplink → peer, events/s from the first
   * event forwarded to the last. This is the Event Hubs path without live ingest competing for
   * the CPU: what an operator waits for after an outage.
   */
  drainEventsPerSec: number
  /** drain / raw SDK. */
  drainRatio: number
  /** CPU of the pipeline process per drained event, µs. */
  drainCpuMicrosPerEvent: number
  backlogEvents: number
  /** The same pipeline and drain with `thread: worker` (the SDK on a thread of its own). */
  worker: UplinkPathFigures
  /** The same pipeline and drain in `mode: batch` (JSON batch documents), on the main thread. */
  batch: UplinkPathFigures
  /**
   * The same pipeline and drain in `mode: binary`, the uplink's default (attributes as AMQP
   * application properties, the data alone as the body), on the main thread. Not the yardstick's
   * message: the ratio says what the default costs against it.
   */
  binary: UplinkPathFigures
  /**
   * The structured pipeline and drain with `routing: partition` (one AMQP batch per partition of
   * the peer's 4, not per device), on the main thread. Against the same yardstick, which keeps one
   * partition key per device.
   */
  partition: UplinkPathFigures
}

/** Figures of one uplink configuration (pipeline and drain), against the run's raw SDK figure. */
export interface UplinkPathFigures {
  pipelineEventsPerSec: number
  /** The warm-up: the first WARM_UP events of a fresh process (JIT compiling), events/s. */
  pipelineColdEventsPerSec: number
  ratio: number
  pipelineCpuMicrosPerEvent: number
  pipelinePeakRssMb: number
  drainEventsPerSec: number
  drainRatio: number
  drainCpuMicrosPerEvent: number
  /** Peak RSS of the drain process (backlog filled, then drained), MiB. */
  drainPeakRssMb: number
}

/** Events queued for the drain measurement. */
const BACKLOG = 200_000

export interface EventHubsBenchOptions {
  /** Run both producers pinned with `taskset -c <pin>` (e.g. '0'); the peer stays unpinned. */
  pin?: string
}

/**
 * Runs a compiled bench script in a child process and resolves with the last JSON line it printed.
 * When the child prints BACKLOG_READY, `onBacklogReady` runs (it brings the peer up).
 */
function runChild(script: string, args: string[], pin?: string, onBacklogReady?: () => Promise<void>): Promise<Record<string, number>> {
  const nodeCmd = [process.execPath, path.join(here, script), ...args]
  const [cmd, ...argv] = pin !== undefined ? ['taskset', '-c', pin, ...nodeCmd] : nodeCmd
  return new Promise((resolve, reject) => {
    const child = spawn(cmd!, argv, { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (d: Buffer) => {
      const text = d.toString()
      if (text.includes('BACKLOG_READY')) void onBacklogReady?.()
      out += text
    })
    child.on('error', reject)
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`${script} exited ${code}`))
      resolve(JSON.parse(out.trim().split('\n').pop()!) as Record<string, number>)
    })
  })
}

/**
 * `fn`'s result and the CPU this process (where the peer runs) used meanwhile, µs per event. The
 * peer forgets what earlier runs sent first: holding it would grow this process's heap run after
 * run, slowing the peer (and the producer waiting on it) and charging its GC to the next run.
 */
async function withPeerCpu<T>(peer: EventHubsPeer, events: number, fn: () => Promise<T>): Promise<[T, number]> {
  peer.forget()
  const cpu0 = process.cpuUsage()
  const result = await fn()
  const cpu = process.cpuUsage(cpu0)
  return [result, (cpu.user + cpu.system) / events]
}

/** Sets the ratios of `figures` against the yardstick's final figure. */
function setRatios(figures: UplinkPathFigures, rawSdkEventsPerSec: number): void {
  figures.ratio = figures.pipelineEventsPerSec / rawSdkEventsPerSec
  figures.drainRatio = figures.drainEventsPerSec / rawSdkEventsPerSec
}

/** In a fresh temporary data directory, removed afterwards. */
async function withDataDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'eg-bench-eh-'))
  try {
    return await fn(dir)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

type UplinkMode = 'structured' | 'batch' | 'binary'

/** One live pipeline run, with the SDK on `thread`, in `mode`, and the peer's CPU meanwhile. */
async function liveRun(peer: EventHubsPeer, thread: 'main' | 'worker', mode: UplinkMode, routing: 'key' | 'partition', pin?: string): Promise<[Record<string, number>, number]> {
  const cs = peer.connectionString()
  return withPeerCpu(peer, EVENTS + WARM_UP, () =>
    withDataDir((dir) => runChild('pipeline-worker.js', ['eventhubs', cs, String(EVENTS), dir, thread, mode, routing, String(WARM_UP)], pin)))
}

/** The drain of a backlog: the peer is down while the worker fills its store, and comes back when it says so. */
async function drainRun(peer: EventHubsPeer, thread: 'main' | 'worker', mode: UplinkMode, routing: 'key' | 'partition', pin?: string): Promise<Record<string, number>> {
  await peer.kill()
  peer.forget()
  const cs = peer.connectionString()
  return withDataDir((dir) => runChild('pipeline-worker.js', ['eventhubs-backlog', cs, String(BACKLOG), dir, thread, mode, routing], pin, () => peer.restart()))
}

/** Figures of one path from its live run(s) (medians) and its drain; ratios are set later (setRatios). */
function pathFigures(live: Array<Record<string, number>>, backlog: Record<string, number>): UplinkPathFigures {
  const of = (key: string): number => median(live.map((r) => r[key]!))
  return {
    pipelineEventsPerSec: of('eventsPerSec'),
    pipelineColdEventsPerSec: of('warmUpEventsPerSec'),
    ratio: Number.NaN,
    pipelineCpuMicrosPerEvent: of('cpuMicrosPerEvent'),
    pipelinePeakRssMb: Math.max(...live.map((r) => r['peakRssMb']!)),
    drainEventsPerSec: backlog['drainEventsPerSec']!,
    drainRatio: Number.NaN,
    drainCpuMicrosPerEvent: backlog['drainCpuMicrosPerEvent']!,
    drainPeakRssMb: backlog['peakRssMb']!,
  }
}

/** One live run and one drain of a path other than the default. */
async function measureVariant(peer: EventHubsPeer, thread: 'main' | 'worker', mode: UplinkMode, routing: 'key' | 'partition', pin?: string): Promise<UplinkPathFigures> {
  const [live] = await liveRun(peer, thread, mode, routing, pin)
  return pathFigures([live], await drainRun(peer, thread, mode, routing, pin))
}

/**
 * Runs every measurement against one peer (1 MiB max message size, like Event Hubs Standard):
 * the default path (structured, `thread: main`, keyed) live LIVE_RUNS times, each between two
 * raw SDK runs, and its drain; then one live run and one drain each with `thread: worker`, in
 * batch mode, in binary mode, and with `routing: partition`.
 */
export async function benchEventHubs(opts: EventHubsBenchOptions = {}): Promise<EventHubsBenchResult> {
  const peer = await startEventHubsPeer({ maxMessageSize: 1024 * 1024 })
  try {
    const yardstick = (): Promise<[Record<string, number>, number]> =>
      withPeerCpu(peer, EVENTS + WARM_UP, () => runChild('eventhubs-yardstick-worker.js', [peer.connectionString(), String(EVENTS), String(DEVICES), String(WARM_UP)], opts.pin))
    // Run-to-run noise on a shared VM is ±25%: live runs alternate with yardstick runs, and the
    // ratio is median over median, so a machine that speeds up or slows down during the bench
    // does not favour either side. Every run is in the result.
    const yards = [await yardstick()]
    const lives: Array<[Record<string, number>, number]> = []
    for (let i = 0; i < LIVE_RUNS; i++) {
      lives.push(await liveRun(peer, 'main', 'structured', 'key', opts.pin))
      yards.push(await yardstick())
    }
    const liveResults = lives.map(([r]) => r)
    const mainDrain = await drainRun(peer, 'main', 'structured', 'key', opts.pin)
    const main = pathFigures(liveResults, mainDrain)
    const backlogEvents = mainDrain['queued']!
    const worker = await measureVariant(peer, 'worker', 'structured', 'key', opts.pin)
    const batch = await measureVariant(peer, 'main', 'batch', 'key', opts.pin)
    const binary = await measureVariant(peer, 'main', 'binary', 'key', opts.pin)
    const partition = await measureVariant(peer, 'main', 'structured', 'partition', opts.pin)
    const yardRates = yards.map(([r]) => r['eventsPerSec']!)
    const rawSdkEventsPerSec = median(yardRates)
    for (const figures of [main, worker, batch, binary, partition]) setRatios(figures, rawSdkEventsPerSec)
    const rawSdkColdEventsPerSec = median(yards.map(([r]) => r['warmUpEventsPerSec']!))
    return {
      ...main,
      pipelineRunsEventsPerSec: liveResults.map((r) => r['eventsPerSec']!),
      runRatios: liveResults.map((r, i) => r['eventsPerSec']! / ((yardRates[i]! + yardRates[i + 1]!) / 2)),
      rawSdkEventsPerSec,
      rawSdkColdEventsPerSec,
      coldRatio: main.pipelineColdEventsPerSec / rawSdkColdEventsPerSec,
      rawSdkRunsEventsPerSec: yardRates,
      rawSdkCpuMicrosPerEvent: median(yards.map(([r]) => r['cpuMicrosPerEvent']!)),
      rawSdkPeerCpuMicrosPerEvent: median(yards.map(([, cpu]) => cpu)),
      pipelinePeerCpuMicrosPerEvent: median(lives.map(([, cpu]) => cpu)),
      backlogEvents,
      worker,
      batch,
      binary,
      partition,
    }
  } finally {
    await peer.close()
  }
}
