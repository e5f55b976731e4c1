/**
 * `npm run bench`: measures the durable pipeline against a plain mqtt.js publisher on the same
 * Mosquitto, in the same run, and the memory cost of a 1,000,000-event backlog. Prints figures and
 * writes bench/results.json. Never asserts: figures are for people to judge against the targets.
 * `npm run bench -- --report` then also runs bench/report/ and writes bench/REPORT.md.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort, startMosquitto } from '../test/support/mosquitto.js'
import { plainPublisherYardstick } from './mqtt-yardstick.js'
import { makeBenchEvents } from './bench-events.js'
import { benchEventHubs, WARM_UP } from './eventhubs-bench.js'
import { benchIngest } from './ingest-bench.js'
import { writeReport } from './report/write-report.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const repoRoot = path.resolve(here, '..', '..')

interface WorkerResult {
  scenario: string
  events: number
  seconds: number
  eventsPerSec: number
  cpuMicrosPerEvent: number
  peakRssMb: number
  rssSettledMb: number
  queued: number
  rssDrainedMb?: number
  drainSeconds?: number
}

/**
 * Runs a worker; when it prints BACKLOG_READY (backlog scenario), `onBacklogReady` brings the
 * broker up so the worker can drain.
 */
function runWorker(scenario: string, url: string, events: number, onBacklogReady?: () => Promise<void>): Promise<WorkerResult> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'eg-bench-'))
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', path.join(here, 'pipeline-worker.js'), scenario, url, String(events), dataDir], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let out = ''
    child.stdout.on('data', (d: Buffer) => {
      const text = d.toString()
      if (text.includes('BACKLOG_READY')) void onBacklogReady?.()
      out += text
    })
    child.on('exit', (code) => {
      rmSync(dataDir, { recursive: true, force: true })
      if (code !== 0) return reject(new Error(`bench worker ${scenario} exited ${code}`))
      resolve(JSON.parse(out.trim().split('\n').pop()!) as WorkerResult)
    })
  })
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
}

async function main(): Promise<void> {
  const startedAt = new Date()
  const broker = await startMosquitto()
  const results: Record<string, unknown> = { at: startedAt.toISOString(), node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, loadavg: os.loadavg() }
  try {
    const yardEvents = makeBenchEvents(100_000)
    await plainPublisherYardstick(broker.url, yardEvents.slice(0, 10_000), 100) // warm-up
    const yard = await plainPublisherYardstick(broker.url, yardEvents, 100)
    const pipe = await runWorker('throughput', broker.url, 300_000)
    // A closed port: the uplink cannot connect, so everything queues on disk.
    // Nothing listens on the port until the worker reports its backlog; then a broker comes up there.
    const drainPort = await freePort()
    let drainBroker: Awaited<ReturnType<typeof startMosquitto>> | undefined
    const backlog = await runWorker('backlog', `mqtt://127.0.0.1:${drainPort}`, 1_000_000, async () => {
      drainBroker = await startMosquitto({ port: drainPort })
    })
    await drainBroker?.stop()
    const empty = { rssSettledMb: backlog.rssDrainedMb ?? Number.NaN }
    const ratio = pipe.eventsPerSec / yard.eventsPerSec
    Object.assign(results, {
      yardstick: { eventsPerSec: yard.eventsPerSec, inFlight: 100, events: yardEvents.length },
      pipeline: pipe,
      ratio,
      backlog: { emptyQueueRssMb: empty.rssSettledMb, backlogRssMb: backlog.rssSettledMb, backlogEvents: backlog.queued, growthMb: backlog.rssSettledMb - empty.rssSettledMb, ingestPerSec: backlog.eventsPerSec, drainSeconds: backlog.drainSeconds, drainPerSec: backlog.queued / (backlog.drainSeconds ?? Number.NaN) },
    })
    const lines = [
      `plain mqtt.js QoS 1, 100 in flight (yardstick): ${fmt(yard.eventsPerSec)} ev/s`,
      `durable pipeline (simulator → store → MQTT batch → Mosquitto, all PUBACKed): ${fmt(pipe.eventsPerSec)} ev/s  (${fmt(ratio, 2)}x the yardstick, target >= 1.0x)`,
      `  cpu ${fmt(pipe.cpuMicrosPerEvent, 1)} µs/event, peak RSS ${fmt(pipe.peakRssMb, 1)} MB (target <= 96 MB)`,
      `backlog (one process): RSS ${fmt(backlog.rssSettledMb, 1)} MB with ${fmt(backlog.queued)} events queued, ${fmt(empty.rssSettledMb, 1)} MB after draining them (difference ${fmt(backlog.rssSettledMb - empty.rssSettledMb, 1)} MB, target <= 10 MB)`,
      `  drain of the ${fmt(backlog.queued)}-event backlog once the broker came up: ${fmt(backlog.drainSeconds ?? 0, 1)} s (${fmt(backlog.queued / (backlog.drainSeconds ?? 1))} ev/s)`,
      `  durable ingest while offline: ${fmt(backlog.eventsPerSec)} ev/s, peak RSS ${fmt(backlog.peakRssMb, 1)} MB`,
    ]
    console.log(lines.join('\n'))
  } finally {
    await broker.stop()
  }
  const eh = await benchEventHubs()
  results.eventhubs = eh
  const ingest = await benchIngest()
  results.ingest = ingest
  console.log(`ingest: BLE ${fmt(ingest.bleAdvertsPerSec)} adverts/s decoded and handed to ingest at ${fmt(ingest.bleCpuPct)}% of one core; serial ${fmt(ingest.serialLinesPerSec)} lines/s through a PTY at ${fmt(ingest.serialCpuPct)}% of one core`)
  console.log(`Event Hubs: pipeline ${fmt(eh.pipelineEventsPerSec)} ev/s vs raw SDK createBatch/sendBatch ${fmt(eh.rawSdkEventsPerSec)} ev/s to the same local AMQP peer, both timed after a warm-up; medians (${fmt(eh.ratio, 2)}x, target >= 0.9x)`)
  console.log(`  runs, alternating: raw SDK ${eh.rawSdkRunsEventsPerSec.map((r) => fmt(r)).join(', ')} ev/s; pipeline ${eh.pipelineRunsEventsPerSec.map((r) => fmt(r)).join(', ')} ev/s (${eh.runRatios.map((r) => `${fmt(r, 2)}x`).join(', ')})`)
  console.log(`  cold (the first ${fmt(WARM_UP)} events of each fresh process, not timed above): pipeline ${fmt(eh.pipelineColdEventsPerSec)} ev/s vs raw SDK ${fmt(eh.rawSdkColdEventsPerSec)} ev/s (${fmt(eh.coldRatio, 2)}x)`)
  console.log(`  cpu: pipeline ${fmt(eh.pipelineCpuMicrosPerEvent, 1)} µs/event, raw SDK ${fmt(eh.rawSdkCpuMicrosPerEvent, 1)} µs/event (CPU ratio ${fmt(eh.rawSdkCpuMicrosPerEvent / eh.pipelineCpuMicrosPerEvent, 2)}x: the throughput ratio on a quiet machine); the local peer ${fmt(eh.pipelinePeerCpuMicrosPerEvent, 1)} / ${fmt(eh.rawSdkPeerCpuMicrosPerEvent, 1)} µs/event meanwhile`)
  console.log(`  drain of ${fmt(eh.backlogEvents)} stored events through the uplink: ${fmt(eh.drainEventsPerSec)} ev/s (${fmt(eh.drainRatio, 2)}x the raw SDK), ${fmt(eh.drainCpuMicrosPerEvent, 1)} µs/event`)
  const w = eh.worker
  console.log(`  thread: worker (SDK on its own thread): pipeline ${fmt(w.pipelineEventsPerSec)} ev/s (${fmt(w.ratio, 2)}x), drain ${fmt(w.drainEventsPerSec)} ev/s (${fmt(w.drainRatio, 2)}x); peak RSS ${fmt(w.pipelinePeakRssMb, 1)} MB vs ${fmt(eh.pipelinePeakRssMb, 1)} MB on the main thread`)
  const b = eh.batch
  console.log(`  mode: batch (JSON batch documents, one per device per forwarder batch): pipeline ${fmt(b.pipelineEventsPerSec)} ev/s (${fmt(b.ratio, 2)}x), ${fmt(b.pipelineCpuMicrosPerEvent, 1)} µs/event; drain ${fmt(b.drainEventsPerSec)} ev/s (${fmt(b.drainRatio, 2)}x)`)
  const bin = eh.binary
  console.log(`  mode: binary (the default; attributes as application properties): pipeline ${fmt(bin.pipelineEventsPerSec)} ev/s (${fmt(bin.ratio, 2)}x), ${fmt(bin.pipelineCpuMicrosPerEvent, 1)} µs/event; drain ${fmt(bin.drainEventsPerSec)} ev/s (${fmt(bin.drainRatio, 2)}x)`)
  const p = eh.partition
  console.log(`  routing: partition (one AMQP batch per partition, not per device): pipeline ${fmt(p.pipelineEventsPerSec)} ev/s (${fmt(p.ratio, 2)}x), ${fmt(p.pipelineCpuMicrosPerEvent, 1)} µs/event; drain ${fmt(p.drainEventsPerSec)} ev/s (${fmt(p.drainRatio, 2)}x)`)
  writeFileSync(path.join(repoRoot, 'bench', 'results.json'), JSON.stringify(results, null, 2) + '\n')
  console.log('wrote bench/results.json')
  if (process.argv.includes('--report')) await writeReport(results, startedAt)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
