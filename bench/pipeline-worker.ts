/**
 * One benchmark scenario in a fresh process (so RSS figures belong to that scenario alone).
 * Usage: node --expose-gc dist/bench/pipeline-worker.js <throughput|backlog> <brokerUrl> <events> <dataDir>
 *    or: node dist/bench/pipeline-worker.js <eventhubs|eventhubs-backlog> <emulatorConnectionString> <events> <dataDir> [main|worker] [structured|batch] [key|partition] [warmUpEvents]
 * `backlog` and `eventhubs-backlog` fill the store with the uplink's peer down, print BACKLOG_READY,
 * and then time the drain once the parent brought the peer up. `eventhubs` forwards `warmUpEvents`
 * more first and times `events` from there (the yardstick warms the SDK the same way).
 * Prints one JSON line with its figures.
 */
import { gatewayConfigSchema } from '../gateway/config/index.js'
import { GatewayMetrics } from '../gateway/telemetry/metrics.js'
import { silentLogger } from '../gateway/core/observability.js'
import { Gateway } from '../gateway/runtime/gateway.js'
import { sleep } from '../gateway/core/abort.js'
import { ioDelta, peakRssMb, procIo } from './proc-stats.js'
import { placeEmergencyReserve } from './emergency-reserve.js'
import { SimulatorSource } from '../drivers/simulator/simulator-source.js'
import { simulatorSourceSchema } from '../drivers/simulator/config.js'
import type { ReadingSink, Source } from '../gateway/core/types.js'

const DEVICES = 100
/** Events simulated past the timed window after a warm-up (see `tail` in main). */
const TAIL = 30_000

/**
 * Scenario `eventhubs`: the uplink against the local AMQP peer (`url` is its emulator connection
 * string), with its default batching (maxEvents 4000, maxBytes 2 MiB, maxInFlight 2). Structured
 * mode (the same AMQP messages as the raw SDK yardstick sends), or batch mode (JSON batch
 * documents: one AMQP message per device per forwarder batch).
 */
const EVENTHUBS_UPLINK = (connectionString: string, thread: string, mode: string, routing: string) => ({ type: 'eventhubs', id: 'bench', connectionString, mode, thread, routing })

/**
 * A source that starts its inner source only once `open` resolves. The Event Hubs scenario uses it
 * so that the pipeline, like the raw SDK yardstick, is timed from a connected link: the SDK's
 * connect (CBS auth + link attach) is not part of either figure.
 */
class GatedSource implements Source {
  readonly id: string
  readonly type: string
  constructor(private readonly inner: Source, private readonly open: Promise<void>) {
    this.id = inner.id
    this.type = inner.type
  }
  async run(sink: ReadingSink, signal: AbortSignal): Promise<void> {
    await this.open
    return this.inner.run(sink, signal)
  }
  health(): ReturnType<Source['health']> {
    return this.inner.health()
  }
}

async function main(): Promise<void> {
  const [scenario, url, eventsArg, dataDir, ehThread = 'main', ehMode = 'structured', ehRouting = 'key', ehWarmUp = '0'] = process.argv.slice(2)
  placeEmergencyReserve(dataDir!) // before the I/O counters start: the store writes it once per device, not per run
  const gated = scenario === 'eventhubs'
  const warmUp = gated ? Number(ehWarmUp) : 0
  // After a warm-up the simulator goes on TAIL events past the timed ones, so that ingest still
  // runs when the window closes, as when it opened: the window holds the steady state at both ends,
  // not a head start of events ingested before it (nor a last stretch of sending alone).
  const tail = warmUp > 0 ? TAIL : 0
  const events = Number(eventsArg) + warmUp + tail
  const devices = Math.min(DEVICES, events)
  const simulator = { type: 'simulator', id: 'sim', devices, intervalMs: 0, count: Math.ceil(events / devices) }
  const eventhubs = scenario === 'eventhubs' || scenario === 'eventhubs-backlog'
  const config = gatewayConfigSchema.parse({
    gateway: { id: 'bench', dataDir },
    store: { maxBytes: '2GiB', maxAge: '1d', whenFull: 'drop_oldest' },
    ingest: { maxPending: 10_000, maxChunk: 1000 },
    sources: gated ? [] : [simulator],
    uplinks: [
      eventhubs
        ? EVENTHUBS_UPLINK(url!, ehThread, ehMode, ehRouting)
        : // Batch mode: one topic per source, so a batch is not split per device (the events carry their source).
          { type: 'mqtt', id: 'bench', url, protocolVersion: 5, mode: 'batch', topic: 'edge/{gatewayId}/{sourceId}', maxEvents: 500, maxBytes: '256KiB', lingerMs: 5, maxInFlight: 8 },
    ],
    admin: { enabled: false },
    log: { level: 'warn' },
  })
  const total = devices * Math.ceil(events / devices)
  /** The count (of `field`, below) that closes the timed window. */
  const windowEnd = total - tail
  const metrics = new GatewayMetrics()
  let openGate!: () => void
  const gate = new Promise<void>((resolve) => (openGate = resolve))
  const extraSources = gated ? [new GatedSource(new SimulatorSource(simulatorSourceSchema.parse(simulator)), gate)] : []
  const gateway = new Gateway(config, { log: silentLogger, metrics, extraSources })
  /** The warm-up's rate: the first events a fresh process forwards (the JIT still compiling). */
  let warmUpEventsPerSec: number | undefined
  if (gated) {
    await gateway.start()
    while (!gateway.health().components.uplinks.every((u) => u.connected)) await sleep(5)
    // The warm-up runs the whole path (the JIT compiles the store's, the builder's and the
    // uplink's code while it does) before the clock starts; the events after it are timed while
    // it goes on at full speed.
    const w0 = performance.now()
    openGate()
    while (metrics.snapshot().forwarded < warmUp) await sleep(1)
    if (warmUp > 0) warmUpEventsPerSec = metrics.snapshot().forwarded / ((performance.now() - w0) / 1000)
  }
  const io0 = procIo('self')
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const field = scenario === 'throughput' || scenario === 'eventhubs' ? 'forwarded' : 'ingested'
  const atStart = metrics.snapshot()[field]
  if (!gated) await gateway.start()
  // When ingest had stored everything: if it is long before the end, the uplink is the bottleneck.
  let ingestSeconds: number | undefined
  while (metrics.snapshot()[field] < windowEnd) {
    await sleep(gated ? 1 : 10)
    if (ingestSeconds === undefined && metrics.snapshot().ingested >= total) ingestSeconds = (performance.now() - t0) / 1000
  }
  const seconds = (performance.now() - t0) / 1000
  const { [field]: atEnd, ingested: ingestedAtWindowEnd } = metrics.snapshot()
  const timed = atEnd - atStart
  const cpu = process.cpuUsage(cpu0)
  const io = ioDelta(io0, procIo('self'))
  let rssSettledMb = 0
  const queued = gateway.store.stats().entries
  let drain: { rssDrainedMb?: number; drainSeconds: number; drainEventsPerSec?: number; drainCpuMicrosPerEvent?: number } | undefined
  if (scenario === 'eventhubs-backlog') {
    // The peer comes up only now (the parent starts it on BACKLOG_READY). The SDK reconnects after
    // its own backoff, so the drain is timed from the first event forwarded to the last: that is
    // the uplink's drain rate, not how long a reconnect waits.
    process.stdout.write('BACKLOG_READY\n')
    while (metrics.snapshot().forwarded === 0) await sleep(2)
    const d0 = performance.now()
    const dCpu0 = process.cpuUsage()
    const first = metrics.snapshot().forwarded
    while (metrics.snapshot().forwarded < total) await sleep(2)
    const dCpu = process.cpuUsage(dCpu0)
    const drainSeconds = (performance.now() - d0) / 1000
    drain = { drainSeconds, drainEventsPerSec: (total - first) / drainSeconds, drainCpuMicrosPerEvent: (dCpu.user + dCpu.system) / (total - first) }
  }
  if (scenario === 'backlog') {
    rssSettledMb = await settledRssMb()
    // The same process, with the same history, once with the backlog and once after draining it:
    // the difference is what the backlog itself costs in memory.
    process.stdout.write('BACKLOG_READY\n')
    const d0 = performance.now()
    while (metrics.snapshot().forwarded < total) await sleep(20)
    drain = { drainSeconds: (performance.now() - d0) / 1000, rssDrainedMb: await settledRssMb() }
  }
  await gateway.stop({ forwarderGraceMs: 1000 })
  const result = {
    scenario,
    events: timed,
    seconds,
    ingestSeconds,
    eventsPerSec: timed / seconds,
    warmUpEventsPerSec,
    /** Below the events the simulator makes when ingest still ran as the window closed (with a warm-up, it should). */
    ingestedAtWindowEnd,
    simulated: total,
    cpuMicrosPerEvent: (cpu.user + cpu.system) / timed,
    // VmHWM, not resourceUsage().maxRSS: that one includes the parent's RSS at spawn (proc-stats.ts).
    peakRssMb: peakRssMb('self'),
    rssSettledMb,
    queued,
    ...drain,
    /** /proc/self/io write_bytes (block layer, LevelDB log + tables) per event, start to done. */
    writeBytesPerEvent: io.writeBytes / timed,
  }
  process.stdout.write(JSON.stringify(result) + '\n')
  process.exit(0)
}

/** RSS after the forwarder's retries settled and full GCs ran. */
async function settledRssMb(): Promise<number> {
  await sleep(500)
  for (let i = 0; i < 3; i++) {
    globalThis.gc?.()
    await sleep(100)
  }
  return process.memoryUsage().rss / 2 ** 20
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
