/**
 * `edge-gateway decode ble|nmea`: run the gateway's own decoders on bytes an operator pasted
 * (from `btmon`, a sniffer, a GPS log) and print what the gateway would store, as JSON.
 *
 * Exit codes: 0 with JSON on stdout; 1 with one `edge-gateway decode ...: reason` line on stderr
 * when nothing decodes (unknown format, bad checksum, bad hex, wrong key, a sentence that carries
 * no reading); 64 for a usage error (commander).
 */
import type { Command } from 'commander'
import type { CliContext } from '../context.js'
import { EXIT_OK } from '../exit-codes.js'

/** Nothing decoded: the input was read but gives no reading. */
export const EXIT_NOTHING_DECODED = 1

interface BleOptions {
  serviceData?: string[]
  manufacturerData?: string
  name?: string
  mac?: string
  bindkey?: string
  extended?: boolean
}

/** Adds `decode ble ...` and `decode nmea SENTENCE`. */
export function registerDecodeCommand(program: Command, ctx: CliContext): void {
  const decode = program
    .command('decode')
    .description('decode a BLE advert or an NMEA sentence with the gateway decoders and print the readings as JSON')
  decode
    .command('ble')
    .description('decode one BLE advert (BTHome v2 incl. encrypted, RuuviTag RAWv2, ATC1441/pvvx, iBeacon, Eddystone)')
    .option('--service-data <uuid=hex>', 'service data: 16-bit or 128-bit UUID = payload hex after the UUID (repeatable)', collect, [])
    .option('--manufacturer-data <hex>', 'manufacturer specific data, starting with the 2-byte little-endian company id')
    .option('--name <name>', 'advertised local name')
    .option('--mac <mac>', 'device address aa:bb:cc:dd:ee:ff (required with --bindkey: it is part of the nonce)')
    .option('--bindkey <hex>', '32 hex chars: AES key of an encrypted BTHome/pvvx device')
    .option('--extended', 'allow Bluetooth 5 extended-advert field sizes (255 instead of 31 bytes)')
    .addHelpText('after', '\nExample:\n  edge-gateway decode ble --service-data fcd2=4002c40903bf13 --mac a4:c1:38:8d:18:b2\n')
    .action(async (opts: BleOptions) => {
      const { decodeBleCommand } = await import('../../../drivers/decoders/cli-decode.js')
      const result = decodeBleCommand({ ...opts, timeMs: Date.now() })
      if (!result.ok) return fail(ctx, 'ble', result.message)
      const format = formatOf(result.decoded)
      if (result.readings.length === 0) {
        const warnings = (result.decoded as { warnings?: unknown }).warnings
        const why = Array.isArray(warnings) && warnings.length > 0 ? `: ${warnings.join('; ')}` : ''
        return fail(ctx, 'ble', `no reading: the advert is ${String(format)} but carries nothing the gateway would store${why}`)
      }
      print(ctx, { format, decoded: result.decoded, readings: result.readings })
    })
  decode
    .command('nmea')
    .description('decode an NMEA 0183 sentence (GGA, GNS, RMC, GLL, VTG, GSA, ZDA, GST, GSV); the *HH checksum is required')
    .argument('<sentence>', "the sentence, quoted for the shell: '$GPGGA,...*47'; or - to decode every line of stdin")
    .option('--device <id>', 'deviceId for the readings', 'nmea')
    .addHelpText('after', [
      '',
      'With -, each input line gives one JSON line: {"line","input","sentence","readings"} or',
      '{"line","input","error"}; exit 1 if any line gave no reading. Example:',
      '  edge-gateway decode nmea - < gps-capture.log',
      '',
    ].join('\n'))
    .action(async (sentence: string, opts: { device: string }) => {
      const { decodeNmeaForCli } = await import('./decode-nmea.js')
      if (sentence !== '-') {
        const r = decodeNmeaForCli(sentence, opts.device, Date.now())
        return r.ok ? print(ctx, { sentence: r.sentence, readings: r.readings }) : fail(ctx, 'nmea', r.message)
      }
      let line = 0
      let decoded = 0
      let failed = 0
      for await (const input of stdinLines()) {
        line++ // numbered as in the input file, blank lines included (and skipped)
        if (input.trim() === '') continue
        const r = decodeNmeaForCli(input, opts.device, Date.now())
        if (r.ok) decoded++
        else failed++
        const out = r.ok ? { line, input, sentence: r.sentence, readings: r.readings } : { line, input, error: r.message }
        ctx.io.out(`${JSON.stringify(out)}\n`)
      }
      if (failed > 0) return fail(ctx, 'nmea', `${failed} of ${failed + decoded} line(s) gave no reading`)
      ctx.exitCode = EXIT_OK
    })
}

async function* stdinLines(): AsyncGenerator<string> {
  const { createInterface } = await import('node:readline')
  yield* createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY })
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value]
}

function formatOf(decoded: unknown): unknown {
  return decoded !== null && typeof decoded === 'object' ? (decoded as { format?: unknown }).format : undefined
}

function print(ctx: CliContext, value: unknown): void {
  ctx.io.out(`${JSON.stringify(value, null, 2)}\n`)
  ctx.exitCode = EXIT_OK
}

function fail(ctx: CliContext, what: string, message: string): void {
  ctx.io.err(`edge-gateway decode ${what}: ${message}\n`)
  ctx.exitCode = EXIT_NOTHING_DECODED
}
