/**
 * The raw SDK yardstick (eventhubs-yardstick.ts) in a fresh process, so that it runs under the
 * same conditions as the pipeline worker: the producer alone on its event loop, the AMQP peer in
 * the parent. (In the parent, the SDK and the peer would share one thread and the yardstick
 * would be slowed by the peer's own work.)
 * Usage: node dist/bench/eventhubs-yardstick-worker.js <emulatorConnectionString> <events> <devices>
 * Prints one JSON line: { eventsPerSec, events, cpuMicrosPerEvent }.
 */
import { makeBenchEvents } from './bench-events.js'
import { rawSdkYardstick } from './eventhubs-yardstick.js'

async function main(): Promise<void> {
  const [connectionString, eventsArg, devicesArg] = process.argv.slice(2)
  const events = makeBenchEvents(Number(eventsArg), Number(devicesArg))
  const cpu0 = process.cpuUsage()
  const { eventsPerSec } = await rawSdkYardstick(connectionString!, events)
  const cpu = process.cpuUsage(cpu0)
  const result = { eventsPerSec, events: events.length, cpuMicrosPerEvent: (cpu.user + cpu.system) / events.length }
  process.stdout.write(JSON.stringify(result) + '\n')
  process.exit(0)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
