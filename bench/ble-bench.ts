/**
 * BLE advert throughput: real advert bytes (BTHome temperature/humidity/battery from 256 rotating
 * devices) through the simulator binding -> noble's GAP parser -> lib/noble.js -> a real
 * BleSource (decode, dedup, gate with minIntervalMs 0, queue, push loop) into a sink that accepts
 * at once. Counts adverts that were decoded and handed to the sink. Prints nothing.
 *
 * `cpuPct` is this process's CPU time over wall time (100 = one core) and INCLUDES the simulated
 * radio, which runs in the same process. The feeder yields after every chunk so the push loop
 * runs and the queue never overflows (drops would be counted, not measured as throughput).
 */
import { bleSourceSchema } from '../drivers/ble/config.js'
import { BleSource } from '../drivers/ble/ble-source.js'
import { SimulatedBleBinding, simulatedNoble } from '../firmware-sim/ble-advertiser.js'
import { bthomeAdvert } from '../firmware-sim/ble-encoders.js'
import { RecordingCounters, silentLogger } from '../gateway/core/observability.js'
import type { IngestReceipt, ReadingSink } from '../gateway/core/types.js'

const ACCEPTED: IngestReceipt = { durable: Promise.resolve({ accepted: 0, dropped: 0, lost: 0, invalid: 0 }) }
const DEVICES = 256
/** Adverts per event-loop turn: well under maxQueued, so nothing is dropped. */
const CHUNK = 200
const WARMUP_MS = 300

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve))

/**
 * Feeds adverts for `seconds` after a short warm-up.
 * @throws Error when readings were dropped (the measurement would be wrong) or the source did not scan.
 */
export async function benchBleAdverts(seconds: number): Promise<{ advertsPerSec: number; cpuPct: number }> {
  const binding = new SimulatedBleBinding()
  const config = bleSourceSchema.parse({ type: 'ble', id: 'bench', minIntervalMs: 0, maxQueued: 10_000 })
  const source = new BleSource(config, { log: silentLogger, counters: new RecordingCounters(), loadNoble: async () => simulatedNoble(binding) })
  let handed = 0
  const sink: ReadingSink = {
    push: async (_id, readings) => {
      handed += readings.length // one reading per advert in this workload
      return ACCEPTED
    },
  }
  const ac = new AbortController()
  const running = source.run(sink, ac.signal)
  // Precomputed: one advert per (device, packet id); the bench measures the gateway, not the encoder.
  const macs = Array.from({ length: DEVICES }, (_, i) => `a4:c1:38:00:00:${i.toString(16).padStart(2, '0')}`)
  const adverts = Array.from({ length: 256 }, (_, p) => bthomeAdvert({ packetId: p, batteryPct: 90, temperatureC: 20 + p / 100, humidityPct: 45 }))
  let n = 0
  const feed = async (untilMs: number) => {
    while (performance.now() < untilMs) {
      for (let i = 0; i < CHUNK; i++, n++) {
        // Device-major order: each device's packet id changes between its adverts (no dedup drops).
        binding.advertise(adverts[Math.floor(n / DEVICES) & 0xff], { address: macs[n % DEVICES] })
      }
      await yieldToLoop()
    }
  }
  try {
    await binding.whenScanning()
    await feed(performance.now() + WARMUP_MS)
    await yieldToLoop()
    const handed0 = handed
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    await feed(t0 + seconds * 1000)
    await yieldToLoop()
    const wallMs = performance.now() - t0
    const cpu = process.cpuUsage(cpu0)
    if (source.stats().dropped > 0) throw new Error(`benchBleAdverts: ${source.stats().dropped} readings dropped; lower CHUNK`)
    const adverts = handed - handed0
    return { advertsPerSec: Math.round(adverts / (wallMs / 1000)), cpuPct: Math.round(((cpu.user + cpu.system) / 1000 / wallMs) * 1000) / 10 }
  } finally {
    ac.abort()
    await running
  }
}
