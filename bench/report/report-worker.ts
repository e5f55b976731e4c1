/**
 * Report scenarios, each in a fresh process (so CPU, RSS and disk writes belong to it alone; run
 * pinned with taskset by child.ts). Prints JSON lines; the last is the result.
 *
 *   steady <brokerUrl> <devices> <intervalMs> <count> <dataDir>
 *       The gateway with a DEFAULT MQTT uplink (structured, lingerMs 20) at devices×1000/intervalMs
 *       events/s until every event is PUBACKed. Latency is measured by the parent's subscriber.
 *   drain <brokerUrl> <events> <dataDir>          (run with --expose-gc)
 *       Queues <events> while nothing listens at brokerUrl, prints {"phase":"queued",...}, waits
 *       for "go" on stdin (the parent has started the broker there), then times the drain to 0.
 *       Settled RSS is taken with the backlog queued and again once it is drained.
 *   yardstick <brokerUrl> <events> <inFlight>
 *       bench/mqtt-yardstick.ts in this process (so it can be pinned like the pipeline).
 */
import { createInterface } from 'node:readline'
import { gatewayConfigSchema } from '../../gateway/config/index.js'
import { GatewayMetrics } from '../../gateway/telemetry/metrics.js'
import { silentLogger } from '../../gateway/core/observability.js'
import { Gateway } from '../../gateway/runtime/gateway.js'
import { sleep } from '../../gateway/core/abort.js'
import { ioDelta, peakRssMb, procIo, rssMb, type ProcIo } from '../proc-stats.js'
import { makeBenchEvents } from '../bench-events.js'
import { placeEmergencyReserve } from '../emergency-reserve.js'
import { plainPublisherYardstick } from '../mqtt-yardstick.js'

/** The bench's MQTT uplink (pipeline-worker.ts throughput), with a short reconnect cap. */
const BENCH_UPLINK = (url: string) => ({ type: 'mqtt', id: 'bench', url, protocolVersion: 5, mode: 'batch', topic: 'edge/{gatewayId}/{sourceId}', maxEvents: 500, maxBytes: '256KiB', lingerMs: 5, maxInFlight: 8, reconnectMaxMs: 1000 })

function emit(msg: object): void {
  process.stdout.write(JSON.stringify(msg) + '\n')
}

function cpuMicros(since: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(since)
  return c.user + c.system
}

function perEvent(io: ProcIo, events: number): { writeBytesPerEvent: number; netWriteBytesPerEvent: number; wcharPerEvent: number } {
  return { writeBytesPerEvent: io.writeBytes / events, netWriteBytesPerEvent: (io.writeBytes - io.cancelledWriteBytes) / events, wcharPerEvent: io.wchar / events }
}

function buildGateway(dataDir: string, source: object, uplink: object): { gateway: Gateway; metrics: GatewayMetrics } {
  placeEmergencyReserve(dataDir) // the store writes it once per device, not per run: keep it out of the I/O figures
  const config = gatewayConfigSchema.parse({
    gateway: { id: 'bench', dataDir },
    store: { maxBytes: '2GiB', maxAge: '1d', whenFull: 'drop_oldest' },
    sources: [source],
    uplinks: [uplink],
    admin: { enabled: false },
    log: { level: 'warn' },
  })
  const metrics = new GatewayMetrics()
  return { gateway: new Gateway(config, { log: silentLogger, metrics }), metrics }
}

async function steady(url: string, devices: number, intervalMs: number, count: number, dataDir: string): Promise<void> {
  const total = devices * count
  const { gateway, metrics } = buildGateway(dataDir, { type: 'simulator', id: 'sim', devices, intervalMs, count }, { type: 'mqtt', id: 'up', url })
  const io0 = procIo('self')
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  await gateway.start()
  while (metrics.snapshot().forwarded < total) await sleep(20)
  const seconds = (performance.now() - t0) / 1000
  const cpu = cpuMicros(cpu0)
  const io = ioDelta(io0, procIo('self'))
  const rssEndMb = rssMb('self')
  await gateway.stop({ forwarderGraceMs: 1000 })
  emit({ scenario: 'steady', events: total, seconds, eventsPerSec: total / seconds, cpuMicrosPerEvent: cpu / total, cpuPctOfCore: cpu / 1e4 / seconds, ...perEvent(io, total), peakRssMb: peakRssMb('self'), rssEndMb })
}

async function drain(url: string, events: number, dataDir: string): Promise<void> {
  const devices = Math.min(100, events)
  const count = Math.ceil(events / devices)
  const total = devices * count
  const { gateway, metrics } = buildGateway(dataDir, { type: 'simulator', id: 'sim', devices, intervalMs: 0, count }, BENCH_UPLINK(url))
  const depth = (): number => gateway.store.stats().perUplink['bench']?.depth ?? Number.NaN
  const ioStart = procIo('self')
  const cpuStart = process.cpuUsage()
  const tIngest = performance.now()
  await gateway.start()
  while (metrics.snapshot().ingested < total) await sleep(20)
  const ingestSeconds = (performance.now() - tIngest) / 1000
  const ingestCpu = cpuMicros(cpuStart)
  const backlogRssMb = await settledRssMb()
  const ioQueued = procIo('self')
  const queued = { queuedDepth: depth(), backlogRssMb, ingestSeconds, ingestPerSec: total / ingestSeconds, ingestCpuMicrosPerEvent: ingestCpu / total, ingest: perEvent(ioDelta(ioStart, ioQueued), total) }
  emit({ phase: 'queued', ...queued })
  const lines = createInterface({ input: process.stdin })
  for await (const line of lines) if (line.trim() === 'go') break
  lines.close()
  const cpu0 = process.cpuUsage()
  const io0 = procIo('self')
  const t0 = performance.now()
  const series: Array<[number, number]> = [[0, depth()]]
  let firstAckSec: number | undefined
  let lastPoint = 0
  for (;;) {
    const d = depth()
    const t = (performance.now() - t0) / 1000
    if (firstAckSec === undefined && metrics.snapshot().forwarded > 0) firstAckSec = t
    if (t - lastPoint >= 1 || d === 0) {
      series.push([t, d])
      lastPoint = t
    }
    if (d === 0) break
    await sleep(50)
  }
  const seconds = (performance.now() - t0) / 1000
  const cpu = cpuMicros(cpu0)
  const io = ioDelta(io0, procIo('self'))
  // Same process, same history, queue now empty: the difference to backlogRssMb is what holding
  // the backlog costs in memory.
  const drainedRssMb = await settledRssMb()
  await gateway.stop({ forwarderGraceMs: 1000 })
  const drainSec = seconds - (firstAckSec ?? 0)
  emit({ scenario: 'drain', events: total, ...queued, drainedRssMb, secondsToEmpty: seconds, firstAckSec, drainPerSec: total / drainSec, drainCpuMicrosPerEvent: cpu / total, drain: perEvent(io, total), peakRssMb: peakRssMb('self'), series })
}

/** VmRSS after the forwarder's retries settled and three full GCs (run with --expose-gc). */
async function settledRssMb(): Promise<number> {
  await sleep(500)
  for (let i = 0; i < 3; i++) {
    globalThis.gc?.()
    await sleep(100)
  }
  return rssMb('self')
}

async function yardstick(url: string, events: number, inFlight: number): Promise<void> {
  const payloads = makeBenchEvents(events)
  await plainPublisherYardstick(url, payloads.slice(0, 10_000), inFlight) // warm-up, as bench/run.ts
  const cpu0 = process.cpuUsage()
  const { eventsPerSec } = await plainPublisherYardstick(url, payloads, inFlight)
  emit({ scenario: 'yardstick', events, eventsPerSec, cpuMicrosPerEvent: cpuMicros(cpu0) / events })
}

async function main(): Promise<void> {
  const [scenario, ...args] = process.argv.slice(2)
  const n = (i: number): number => Number(args[i])
  if (scenario === 'steady') await steady(args[0]!, n(1), n(2), n(3), args[4]!)
  else if (scenario === 'drain') await drain(args[0]!, n(1), args[2]!)
  else if (scenario === 'yardstick') await yardstick(args[0]!, n(1), n(2))
  else throw new Error(`unknown scenario ${scenario}`)
  process.exit(0)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
