/**
 * The raw SDK yardstick (eventhubs-yardstick.ts) in a fresh process, so that it runs under the
 * same conditions as the pipeline worker: the producer alone on its event loop, the AMQP peer in
 * the parent. (In the parent, the SDK and the peer would share one thread and the yardstick
 * would be slowed by the peer's own work.)
 * Usage: node dist/bench/eventhubs-yardstick-worker.js <emulatorConnectionString> <events> <devices> [warmUpEvents]
 * Prints one JSON line: { eventsPerSec, events, cpuMicrosPerEvent } of the timed events (after the
 * warm-up), and warmUpEventsPerSec.
 */
import { makeBenchEvents } from './bench-events.js'
import { rawSdkYardstick } from './eventhubs-yardstick.js'

async function main(): Promise<void> {
  const [connectionString, eventsArg, devicesArg, warmUpArg = '0'] = process.argv.slice(2)
  const devices = Number(devicesArg)
  const warmUp = makeBenchEvents(Number(warmUpArg), devices)
  const events = makeBenchEvents(Number(eventsArg), devices)
  const figures = await rawSdkYardstick(connectionString!, events, warmUp)
  const result = { ...figures, events: events.length }
  process.stdout.write(JSON.stringify(result) + '\n')
  process.exit(0)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
