/**
 * `edge-gateway simulate serial|mqtt|fleet`: simulated devices in their own process that speak the
 * REAL wire formats to a gateway running elsewhere (a serial line through a socat PTY pair, MQTT
 * 3.1.1 publishes into the ingress). BLE and GPIO cannot work that way; see BLE_GPIO_NOTE.
 *
 * Exit codes: 0 stopped normally (count/duration reached, or SIGINT/SIGTERM); 1 could not start or
 * publishes failed; 64 usage error, including `simulate ble|gpio`.
 */
import { InvalidArgumentError, type Command } from 'commander'
import type { CliContext } from '../context.js'
import { EXIT_USAGE } from '../exit-codes.js'

const BLE_GPIO_NOTE = [
  'BLE and GPIO are not simulated here: a simulated radio or GPIO line can only reach noble or',
  "onoff inside the gateway's own process. They run in-process in the demo (npm start, i.e.",
  '`edge-gateway demo`): BTHome/Ruuvi/ATC advert bytes through real noble into the BleSource, and',
  'a doorbell on a fake GPIO line into the GpioSource.',
].join('\n')

/** Adds `simulate serial`, `simulate mqtt`, `simulate fleet`, and `simulate ble|gpio` (which explain). */
export function registerSimulateCommand(program: Command, ctx: CliContext): void {
  const simulate = program
    .command('simulate')
    .description('run simulated devices (serial over a PTY, ESP32s over MQTT) against a running gateway')
    .addHelpText('after', `\n${BLE_GPIO_NOTE}\n`)

  simulate
    .command('serial')
    .description('a serial sensor on a socat PTY pair; prints the device path the gateway opens')
    .requiredOption('--link <path>', "where the gateway's end of the PTY appears (put it in the serial source's path)")
    .option('--format <format>', 'jsonl (environment readings) or nmea (GGA/RMC GPS fixes)', oneOf(['jsonl', 'nmea']), 'jsonl')
    .option('--rate <r>', 'lines per second', positiveNumber, 1)
    .option('--count <n>', 'stop after n lines and exit; the PTY goes with it (default: until Ctrl-C)', positiveInt)
    .option('--device <id>', 'jsonl: device field in every line')
    .action(async (opts: { link: string; format: 'jsonl' | 'nmea'; rate: number; count?: number; device?: string }) => {
      const { runSerialSensor } = await import('../../../firmware-sim/cli-runs.js')
      ctx.exitCode = await withStopSignal((signal) => runSerialSensor(opts, { ...ctx.io, signal }))
    })

  simulate
    .command('mqtt')
    .description('ESP32-like sensors publishing JSON readings (MQTT 3.1.1, QoS 1) to the gateway MQTT ingress')
    .requiredOption('--url <url>', 'ingress URL, e.g. mqtt://127.0.0.1:1883')
    .requiredOption('--username <u>', 'CONNECT username ({n} = device number 1..N)')
    .requiredOption('--password <p>', 'CONNECT password ({n} = device number 1..N)')
    .option('--devices <n>', 'number of devices, one connection each', positiveInt, 1)
    .option('--rate <r>', 'messages per second PER DEVICE', positiveNumber, 1)
    .option('--count <n>', 'stop after n messages in total (default: until Ctrl-C)', positiveInt)
    .option('--topic <t>', 'topic; {clientId} is esp32-XXXXXX', 'sensors/{clientId}/env')
    .action(async (opts: { url: string; username: string; password: string; devices: number; rate: number; count?: number; topic: string }) => {
      const { runEsp32Fleet } = await import('../../../firmware-sim/cli-runs.js')
      const run = { ...opts, totalRate: opts.rate * opts.devices, maxInFlight: 1, label: 'mqtt' }
      ctx.exitCode = await withStopSignal((signal) => runEsp32Fleet(run, { ...ctx.io, signal }))
    })

  simulate
    .command('fleet')
    .description('load test: N ESP32-like MQTT publishers at R messages/s IN TOTAL; reports what the gateway PUBACKed (= stored)')
    .requiredOption('--devices <n>', 'number of devices (connections); the ingress maxClients must allow them', positiveInt)
    .requiredOption('--rate <r>', 'messages per second over all devices', positiveNumber)
    .requiredOption('--url <url>', 'ingress URL, e.g. mqtt://127.0.0.1:1883')
    .option('--username <u>', 'CONNECT username ({n} = device number 1..N)')
    .option('--password <p>', 'CONNECT password ({n} = device number 1..N)')
    .option('--duration <s>', 'stop after s seconds (default: until Ctrl-C)', positiveNumber)
    .option('--count <n>', 'stop after n messages in total', positiveInt)
    .option('--max-in-flight <k>', 'unacknowledged publishes per device', positiveInt, 8)
    .option('--topic <t>', 'topic; {clientId} is esp32-XXXXXX', 'sensors/{clientId}/env')
    .action(async (opts: { devices: number; rate: number; url: string; username?: string; password?: string; duration?: number; count?: number; maxInFlight: number; topic: string }) => {
      const { runEsp32Fleet } = await import('../../../firmware-sim/cli-runs.js')
      const run = { ...opts, totalRate: opts.rate, durationSec: opts.duration, label: 'fleet' }
      ctx.exitCode = await withStopSignal((signal) => runEsp32Fleet(run, { ...ctx.io, signal }))
    })

  for (const kind of ['ble', 'gpio']) {
    simulate
      .command(kind)
      .description(`not available as a separate process: ${kind === 'ble' ? 'BLE sensors run' : 'the GPIO doorbell runs'} in-process in the demo (npm start)`)
      .action(() => {
        ctx.io.err(`edge-gateway simulate ${kind}: not available as a separate process.\n${BLE_GPIO_NOTE}\n`)
        ctx.exitCode = EXIT_USAGE
      })
  }
}

/** Runs `fn` with a signal that aborts on SIGINT/SIGTERM (a second one exits at once). */
async function withStopSignal(fn: (signal: AbortSignal) => Promise<number>): Promise<number> {
  const { waitForStopSignal } = await import('../../runtime/signals.js')
  const ac = new AbortController()
  void waitForStopSignal().then(() => ac.abort())
  return fn(ac.signal)
}

function positiveInt(value: string): number {
  const n = Number(value)
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number >= 1')
  return n
}

function positiveNumber(value: string): number {
  const n = Number(value)
  if (!/^\d+(\.\d+)?$/.test(value) || !(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError('must be a number > 0')
  return n
}

function oneOf(values: string[]): (value: string) => string {
  return (value) => {
    if (!values.includes(value)) throw new InvalidArgumentError(`must be one of ${values.join(', ')}`)
    return value
  }
}
