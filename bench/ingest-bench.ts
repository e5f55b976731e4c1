/**
 * Ingest side, "at <= 1 core": how many BLE adverts and serial lines one gateway process decodes
 * and hands to the pipeline per second, each with the CPU it took (100 = one core fully busy).
 * The two run one after the other, never together, so each figure is that driver alone.
 *
 * - BLE (bench/ble-bench.ts): real advert bytes → simulated binding → noble's GAP parser →
 *   lib/noble.js → BleSource (decode, dedup, gate, queue) → a sink that accepts at once.
 * - Serial (bench/serial-bench.ts): JSON lines through a socat PTY → SerialSource (framer, jsonl
 *   decoder) → a sink that accepts at once. Needs socat; without it the serial figures are NaN.
 *
 * CPU% includes the simulated device where it runs in the same process (the BLE radio, the serial
 * writer), so the gateway's own share is lower than reported. Prints nothing; bench/run.ts prints.
 */
import { benchBleAdverts } from './ble-bench.js'
import { benchSerialLines } from './serial-bench.js'
import { socatAvailable } from '../test/support/pty-pair.js'

export interface IngestBenchResult {
  bleAdvertsPerSec: number
  /** Process CPU over wall time during the BLE run, % of one core. */
  bleCpuPct: number
  /** NaN when socat is not installed. */
  serialLinesPerSec: number
  /** Process CPU over wall time during the serial run, % of one core; NaN without socat. */
  serialCpuPct: number
}

/**
 * Runs both benches for `seconds` each (after their own short warm-up).
 * @param opts.seconds measuring time per bench. @default 3
 * @throws what the benches throw: BLE readings dropped (the figure would be wrong).
 */
export async function benchIngest(opts: { seconds?: number } = {}): Promise<IngestBenchResult> {
  const seconds = opts.seconds ?? 3
  const ble = await benchBleAdverts(seconds)
  const serial = socatAvailable() ? await benchSerialLines(seconds) : { linesPerSec: Number.NaN, cpuPct: Number.NaN }
  return { bleAdvertsPerSec: ble.advertsPerSec, bleCpuPct: ble.cpuPct, serialLinesPerSec: serial.linesPerSec, serialCpuPct: serial.cpuPct }
}
