/**
 * Event Hubs throughput: the durable pipeline (simulator → LevelStore → forwarder →
 * EventHubsUplink → peer, every batch accepted) against the raw SDK (createBatch / tryAdd /
 * sendBatch, no store) on the same local AMQP peer, the same number of events, in the same run.
 * The pipeline runs in structured mode (the same AMQP messages as the yardstick) and in batch
 * mode (the same events in JSON batch documents: fewer, larger AMQP messages).
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

export interface EventHubsBenchResult {
  /**
   * Simulator → store → Event Hubs uplink → peer, all accepted, events/s: EVENTS events, from the
   * end of the warm-up (WARM_UP events forwarded) to the last ack.
   */
  pipelineEventsPerSec: number
  /**
   * Raw EventHubProducerClient on pre-built events, events/s (connected, and WARM_UP events sent,
   * before the clock starts): the mean of a run before and a run after the pipelines.
   */
  rawSdkEventsPerSec: number
  /** The two yardstick runs, before and after the pipelines, events/s. */
  rawSdkRunsEventsPerSec: number[]
  /** pipeline / raw SDK; target >= 0.9. */
  ratio: number
  /** The pipeline's warm-up (the first WARM_UP events of a fresh process), events/s. */
  pipelineColdEventsPerSec: number
  /** The raw SDK's warm-up (the first WARM_UP events of a fresh process), events/s; mean of both runs. */
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

/** Live pipeline, then the drain of a backlog, with the uplink's SDK on `thread`, in `mode`. */
async function measurePath(peer: EventHubsPeer, thread: 'main' | 'worker', mode: 'structured' | 'batch', rawSdkEventsPerSec: number, pin?: string, routing: 'key' | 'partition' = 'key'): Promise<UplinkPathFigures & { backlogEvents: number; peerCpuMicrosPerEvent: number }> {
  const cs = peer.connectionString()
  const uplinkArgs = [thread, mode, routing]
  const [pipe, peerCpuMicrosPerEvent] = await withPeerCpu(peer, EVENTS + WARM_UP, () =>
    withDataDir((dir) => runChild('pipeline-worker.js', ['eventhubs', cs, String(EVENTS), dir, ...uplinkArgs, String(WARM_UP)], pin)))
  // The backlog: the peer is down while the worker fills its store, and comes back when it says so.
  await peer.kill()
  peer.forget()
  const backlog = await withDataDir((dir) => runChild('pipeline-worker.js', ['eventhubs-backlog', cs, String(BACKLOG), dir, ...uplinkArgs], pin, () => peer.restart()))
  return {
    pipelineEventsPerSec: pipe['eventsPerSec']!,
    pipelineColdEventsPerSec: pipe['warmUpEventsPerSec']!,
    ratio: pipe['eventsPerSec']! / rawSdkEventsPerSec,
    pipelineCpuMicrosPerEvent: pipe['cpuMicrosPerEvent']!,
    pipelinePeakRssMb: pipe['peakRssMb']!,
    drainEventsPerSec: backlog['drainEventsPerSec']!,
    drainRatio: backlog['drainEventsPerSec']! / rawSdkEventsPerSec,
    drainCpuMicrosPerEvent: backlog['drainCpuMicrosPerEvent']!,
    drainPeakRssMb: backlog['peakRssMb']!,
    backlogEvents: backlog['queued']!,
    peerCpuMicrosPerEvent,
  }
}

/**
 * Runs every measurement against one peer (1 MiB max message size, like Event Hubs Standard):
 * the raw SDK, then the pipeline and the drain in structured mode with the default `thread: main`,
 * then with `thread: worker`, then in batch mode on the main thread, then structured with
 * `routing: partition`, then the raw SDK again.
 */
export async function benchEventHubs(opts: EventHubsBenchOptions = {}): Promise<EventHubsBenchResult> {
  const peer = await startEventHubsPeer({ maxMessageSize: 1024 * 1024 })
  try {
    const yardstick = (): Promise<[Record<string, number>, number]> =>
      withPeerCpu(peer, EVENTS + WARM_UP, () => runChild('eventhubs-yardstick-worker.js', [peer.connectionString(), String(EVENTS), String(DEVICES), String(WARM_UP)], opts.pin))
    // Run-to-run noise on a shared VM is ±25%: the yardstick runs before and after the pipelines
    // and the ratios use the mean, so a machine that speeds up or slows down during the run
    // does not favour either side. Both figures are in the result.
    const [before, peerCpuBefore] = await yardstick()
    const provisional = before['eventsPerSec']! // ratios are set again below, from the mean
    const { backlogEvents, peerCpuMicrosPerEvent, ...main } = await measurePath(peer, 'main', 'structured', provisional, opts.pin)
    const { backlogEvents: _w, peerCpuMicrosPerEvent: _wp, ...worker } = await measurePath(peer, 'worker', 'structured', provisional, opts.pin)
    const { backlogEvents: _b, peerCpuMicrosPerEvent: _bp, ...batch } = await measurePath(peer, 'main', 'batch', provisional, opts.pin)
    const { backlogEvents: _p, peerCpuMicrosPerEvent: _pp, ...partition } = await measurePath(peer, 'main', 'structured', provisional, opts.pin, 'partition')
    const [after, peerCpuAfter] = await yardstick()
    const rawSdkEventsPerSec = (before['eventsPerSec']! + after['eventsPerSec']!) / 2
    for (const figures of [main, worker, batch, partition]) setRatios(figures, rawSdkEventsPerSec)
    const rawSdkColdEventsPerSec = (before['warmUpEventsPerSec']! + after['warmUpEventsPerSec']!) / 2
    return {
      ...main,
      rawSdkEventsPerSec,
      rawSdkColdEventsPerSec,
      coldRatio: main.pipelineColdEventsPerSec / rawSdkColdEventsPerSec,
      rawSdkRunsEventsPerSec: [before['eventsPerSec']!, after['eventsPerSec']!],
      rawSdkCpuMicrosPerEvent: (before['cpuMicrosPerEvent']! + after['cpuMicrosPerEvent']!) / 2,
      rawSdkPeerCpuMicrosPerEvent: (peerCpuBefore + peerCpuAfter) / 2,
      pipelinePeerCpuMicrosPerEvent: peerCpuMicrosPerEvent,
      backlogEvents,
      worker,
      batch,
      partition,
    }
  } finally {
    await peer.close()
  }
}
