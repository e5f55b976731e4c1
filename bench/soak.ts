/**
 * `npm run soak -- --minutes 60`: the real gateway process at a steady rate against a real
 * Mosquitto that is stopped and restarted every few minutes, sampling RSS, open fds and store size
 * (bench/soak/soak-run.ts). Prints the sample table and the verdict: lost = 0 at the subscriber,
 * and flatness of RSS and fds over the second half. Exit code 0 when every check passed, 1 if not.
 *
 * Options (defaults in brackets):
 *   --minutes N          production time [60]
 *   --devices N          simulated devices [30]
 *   --interval-ms N      reading interval per device [100]  (30 devices: 300 events/s)
 *   --outage-every-s N   broker up time between outages [300]
 *   --outage-s N         length of each outage [20]
 *   --sample-s N         sampling period [10]
 *   --json FILE          also write every sample and the verdict as JSON
 */
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { runSoak } from './soak/soak-run.js'

function num(v: string | undefined, fallback: number, name: string): number {
  if (v === undefined) return fallback
  const n = Number(v)
  if (!Number.isFinite(n) || n <= 0) throw new TypeError(`--${name} must be a positive number, got ${JSON.stringify(v)}`)
  return n
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string' },
      devices: { type: 'string' },
      'interval-ms': { type: 'string' },
      'outage-every-s': { type: 'string' },
      'outage-s': { type: 'string' },
      'sample-s': { type: 'string' },
      json: { type: 'string' },
    },
  })
  const minutes = num(values.minutes, 60, 'minutes')
  const devices = num(values.devices, 30, 'devices')
  const intervalMs = num(values['interval-ms'], 100, 'interval-ms')
  const opts = {
    durationSec: minutes * 60,
    devices,
    intervalMs,
    brokerUpSec: num(values['outage-every-s'], 300, 'outage-every-s'),
    brokerDownSec: num(values['outage-s'], 20, 'outage-s'),
    sampleSec: num(values['sample-s'], 10, 'sample-s'),
    log: (line: string) => console.log(`[soak] ${line}`),
  }
  console.log(`[soak] ${minutes} min at ${(devices * 1000) / intervalMs} events/s; broker stopped for ${opts.brokerDownSec} s every ${opts.brokerUpSec} s; sampling every ${opts.sampleSec} s`)
  const result = await runSoak(opts)
  console.log(result.table)
  console.log(`outages: ${result.outages}, elapsed ${result.elapsedSec.toFixed(0)} s, gateway exit code ${result.exitCode}`)
  if (values.json) writeFileSync(values.json, JSON.stringify({ options: { ...opts, log: undefined }, samples: result.samples, verdict: result.verdict }, null, 2) + '\n')
  if (!result.verdict.ok) {
    console.log(`gateway output (tail):\n${result.gatewayOutput.slice(-4000)}`)
    process.exitCode = 1
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
