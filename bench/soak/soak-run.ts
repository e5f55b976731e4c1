/**
 * Soak: the REAL gateway process (CLI `run --config`) produces at a steady rate into a real
 * Mosquitto that is stopped and restarted on a schedule, while its RSS, open fds and store size
 * are sampled. At the end: lost = 0 at a persistent-session subscriber, and a flatness verdict
 * (soak-verdict.ts). Used by `npm run soak` (bench/soak.ts) and test/soak-ci.test.ts.
 *
 * Timing: the simulator gets `count` readings per device so that it produces for `durationSec`;
 * on a busy machine it produces for longer (a paused sensor skips ticks, never bursts), which only
 * lengthens the run. After it is done the backlog drains with the broker up, then the gateway is
 * stopped with SIGTERM and must exit 0.
 *
 * Subscriber: Mosquitto with persistence (saved on SIGTERM) and `max_queued_messages 0`, so what
 * is queued for the persistent session while the subscriber reconnects, or while it falls behind
 * a drain burst, is never dropped by the broker: a loss counted here is the gateway's.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { collectEvents, type Collector } from '../../test/support/collector.js'
import { freePort, startMosquitto, type MosquittoHandle } from '../../test/support/mosquitto.js'
import { diskUsageBytes, openFds, procIo, rssMb } from '../proc-stats.js'
import { metricSum, scrapeMetrics, startGatewayChild, type GatewayChild } from './gateway-process.js'
import { SequenceTally } from './sequence-tally.js'
import { soakVerdict, formatSoak, type FlatnessLimits, type SoakSample, type SoakVerdict } from './soak-verdict.js'

export interface SoakOptions {
  /** How long the simulator produces, seconds (sets its `count`). */
  durationSec: number
  /** Simulated devices; rate = devices × 1000 / intervalMs events/s. @default 30 */
  devices?: number
  /** @default 100 (with 30 devices: 300 events/s) */
  intervalMs?: number
  /** Broker runs this long between outages, seconds. */
  brokerUpSec: number
  /** Each outage lasts this long, seconds. */
  brokerDownSec: number
  /** Sampling period, seconds. */
  sampleSec: number
  /** After production ends, wait at most this long for the drain and the subscriber. @default 180 */
  drainTimeoutSec?: number
  limits?: FlatnessLimits
  /** Progress lines (outages, a sample about once a minute). */
  log?: (line: string) => void
}

export interface SoakResult {
  samples: SoakSample[]
  verdict: SoakVerdict
  /** Production rate asked for, events/s. */
  targetRate: number
  outages: number
  /** Seconds from gateway start to the final sample. */
  elapsedSec: number
  /** Exit code of the gateway after SIGTERM (0 = clean). */
  exitCode: number | null
  /** Sample table and verdict, ready to print. */
  table: string
  /** Tail of the gateway's log output (for failure messages). */
  gatewayOutput: string
}

const GATEWAY_ID = 'soak'
const UPLINK_ID = 'up'

function gatewayConfig(dataDir: string, url: string, adminPort: number, devices: number, intervalMs: number, count: number): object {
  return {
    gateway: { id: GATEWAY_ID, dataDir },
    store: { maxBytes: '256MiB', maxAge: '1d', whenFull: 'drop_oldest' },
    sources: [{ type: 'simulator', id: 'sim', devices, intervalMs, count }],
    // Defaults otherwise (structured mode, one PUBLISH per event), as an operator would run it;
    // a short reconnect cap so each outage ends within ~2 s of the broker coming back.
    uplinks: [{ type: 'mqtt', id: UPLINK_ID, url, reconnectMaxMs: 2000 }],
    admin: { listen: `127.0.0.1:${adminPort}` },
    log: { level: 'warn' },
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)))

interface Probe {
  sample: SoakSample
  sourceDone: boolean
}

async function probe(gw: GatewayChild, adminPort: number, dataDir: string, t0: number, brokerUp: boolean): Promise<Probe> {
  const text = await scrapeMetrics(adminPort)
  const m = (name: string): number => (text === undefined ? Number.NaN : (metricSum(text, name) ?? Number.NaN))
  const sample: SoakSample = {
    tSec: (performance.now() - t0) / 1000,
    brokerUp,
    rssMb: rssMb(gw.pid),
    fds: openFds(gw.pid),
    duMb: diskUsageBytes(dataDir) / 2 ** 20,
    storeMb: m('edge_gateway_store_bytes') / 2 ** 20,
    queueDepth: m('edge_gateway_queue_depth'),
    ingested: m('edge_gateway_events_ingested_total'),
    forwarded: m('edge_gateway_events_forwarded_total'),
    writtenMb: procIo(gw.pid).writeBytes / 2 ** 20,
  }
  const sourceDone = text !== undefined && text.split('\n').some((l) => l.startsWith('edge_gateway_source_up{') && l.includes('state="done"') && l.endsWith(' 1'))
  return { sample, sourceDone }
}

/** Stops and restarts the broker on schedule until `stop` aborts; leaves it running. */
async function cycleBroker(broker: MosquittoHandle, opts: SoakOptions, state: { up: boolean; outages: number }, stop: AbortSignal): Promise<void> {
  while (!stop.aborted) {
    await sleepUnless(opts.brokerUpSec * 1000, stop)
    if (stop.aborted) return
    await broker.stop()
    state.up = false
    state.outages++
    opts.log?.(`outage ${state.outages}: broker stopped for ${opts.brokerDownSec} s`)
    await sleep(opts.brokerDownSec * 1000) // an outage, once begun, runs its full length
    await broker.restart()
    state.up = true
  }
}

function sleepUnless(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    function done(): void {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })
}

/** Everything one soak runs against, and what it expects to receive. */
interface Rig {
  dir: string
  dataDir: string
  broker: MosquittoHandle
  col: Collector
  gw: GatewayChild
  adminPort: number
  /** performance.now() when the gateway was spawned. */
  t0: number
  expected: Map<string, number>
  total: number
}

async function startRig(devices: number, intervalMs: number, count: number): Promise<Rig> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'eg-soak-'))
  const dataDir = path.join(dir, 'data')
  const broker = await startMosquitto({ persistence: true, extraConfig: 'max_queued_messages 0' })
  const col = await collectEvents(broker.url, 'edge/#', { protocolVersion: 5, persistentSession: true, clientId: `soak-collector-${process.pid}` })
  const expected = new Map<string, number>()
  for (let d = 1; d <= devices; d++) expected.set(`/gateways/${GATEWAY_ID}/sim/sim-${String(d).padStart(4, '0')}`, count)
  const adminPort = await freePort()
  const configPath = path.join(dir, 'config.yaml')
  writeFileSync(configPath, JSON.stringify(gatewayConfig(dataDir, broker.url, adminPort, devices, intervalMs, count), null, 2)) // JSON is YAML
  const gw = startGatewayChild(configPath)
  return { dir, dataDir, broker, col, gw, adminPort, t0: performance.now(), expected, total: devices * count }
}

/**
 * Samples every `sampleSec` until production is over (then stops the outages), the queue is
 * empty with the broker up and the subscriber has everything, or `drainTimeoutSec` has passed.
 */
async function sampleUntilDrained(rig: Rig, opts: SoakOptions, tally: SequenceTally, broker: { state: { up: boolean }; stopCycling: AbortController; error: () => unknown }): Promise<SoakSample[]> {
  const samples: SoakSample[] = []
  const perMinute = Math.max(1, Math.round(60 / opts.sampleSec))
  const drainTimeoutSec = opts.drainTimeoutSec ?? 180
  let doneAt: number | undefined
  for (let k = 1; ; k++) {
    await sleep(rig.t0 + k * opts.sampleSec * 1000 - performance.now())
    if (!rig.gw.alive()) throw new Error(`the gateway exited during the soak:\n${rig.gw.output()}`)
    if (broker.error()) throw new Error(`broker restart failed: ${String(broker.error())}\n${rig.broker.logs()}`)
    tally.absorb(rig.col)
    const { sample, sourceDone } = await probe(rig.gw, rig.adminPort, rig.dataDir, rig.t0, broker.state.up)
    samples.push(sample)
    if (k % perMinute === 0) opts.log?.(`t=${sample.tSec.toFixed(0)} s  RSS ${sample.rssMb.toFixed(1)} MB  fds ${sample.fds}  du ${sample.duMb.toFixed(1)} MB  depth ${sample.queueDepth}  forwarded ${sample.forwarded}/${rig.total}  received ${tally.distinct()}`)
    if (sourceDone && doneAt === undefined) {
      doneAt = performance.now()
      broker.stopCycling.abort() // production is over: let the broker come back and the backlog drain
    }
    if (doneAt === undefined) continue
    if (sample.queueDepth === 0 && tally.distinct() >= rig.total && broker.state.up) return samples
    if (performance.now() - doneAt > drainTimeoutSec * 1000) {
      opts.log?.(`drain not complete ${drainTimeoutSec} s after production ended: depth ${sample.queueDepth}, received ${tally.distinct()}/${rig.total}`)
      return samples
    }
  }
}

export async function runSoak(opts: SoakOptions): Promise<SoakResult> {
  const devices = opts.devices ?? 30
  const intervalMs = opts.intervalMs ?? 100
  const count = Math.max(1, Math.ceil((opts.durationSec * 1000) / intervalMs))
  const rig = await startRig(devices, intervalMs, count)
  const tally = new SequenceTally()
  const state = { up: true, outages: 0 }
  const stopCycling = new AbortController()
  let cycleError: unknown
  const cycling = cycleBroker(rig.broker, opts, state, stopCycling.signal).catch((err: unknown) => void (cycleError = err))
  let samples: SoakSample[]
  let exitCode: number | null
  try {
    samples = await sampleUntilDrained(rig, opts, tally, { state, stopCycling, error: () => cycleError })
    await cycling
    exitCode = await rig.gw.stop()
    tally.absorb(rig.col)
  } finally {
    stopCycling.abort()
    await cycling
    if (rig.gw.alive()) await rig.gw.stop(2000)
    await rig.col.close()
    await rig.broker.stop()
    rmSync(rig.dir, { recursive: true, force: true })
  }
  const verdict = soakVerdict(samples, { ...tally.verdict(rig.expected), expected: rig.total }, exitCode, opts.limits)
  return {
    samples,
    verdict,
    targetRate: (devices * 1000) / intervalMs,
    outages: state.outages,
    elapsedSec: samples.at(-1)?.tSec ?? 0,
    exitCode,
    table: formatSoak(samples, verdict),
    gatewayOutput: rig.gw.output(),
  }
}
