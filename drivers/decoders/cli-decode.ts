/**
 * Pure core of a future `edge-gateway decode-ble` command: hex in, readings out. No I/O, no clock;
 * the caller prints the result and passes `timeMs` (e.g. Date.now()).
 */
import { GatewayError } from '../../gateway/core/errors.js'
import type { Reading } from '../../gateway/core/types.js'
import { decodeAdvert, type BleAdvert, type BleServiceData } from './advert.js'
import { normaliseAddress, macBytes, parseHex } from './bytes.js'
import { advertToReadings } from './readings.js'

/** Arguments as a CLI would collect them (all strings). */
export interface DecodeBleArgs {
  /** Repeatable `UUID=HEX`, e.g. `fcd2=4002c40903bf13`. */
  serviceData?: string[]
  /** Hex including the 2-byte little-endian company id, e.g. `9904...`. */
  manufacturerData?: string
  name?: string
  /** Device MAC. @default '00:00:00:00:00:00' (encrypted formats need the real one: it is in the nonce). */
  mac?: string
  /** 32 hex chars; applied to `mac`. */
  bindkey?: string
  /** Receive time for the readings. @default 0 */
  timeMs?: number
  /** Apply the 255-byte extended-advert size limit instead of 31. @default false */
  extended?: boolean
}

/** Outcome; never throws. `decoded` is the family object (plain JSON-serialisable data). */
export type DecodeBleResult = { ok: true; readings: Reading[]; decoded: unknown } | { ok: false; message: string }

const DEFAULT_MAC = '00:00:00:00:00:00'

/** Decodes one advert given as hex strings. Errors come back as `{ ok: false, message }`. */
export function decodeBleCommand(args: DecodeBleArgs): DecodeBleResult {
  try {
    const mac = args.mac ?? DEFAULT_MAC
    if (!macBytes(mac)) return { ok: false, message: `--mac: '${mac}' is not a MAC address (aa:bb:cc:dd:ee:ff)` }
    if (args.bindkey !== undefined && args.mac === undefined) {
      return { ok: false, message: '--bindkey needs --mac: the MAC is part of the encryption nonce' }
    }
    const advert: BleAdvert = {
      address: normaliseAddress(mac),
      name: args.name,
      serviceData: (args.serviceData ?? []).map(parseServiceDataArg),
      manufacturerData: args.manufacturerData !== undefined ? parseHex(args.manufacturerData, '--manufacturer-data') : undefined,
      timeMs: args.timeMs ?? 0,
      extended: args.extended,
    }
    const bindkeys = new Map<string, Buffer>()
    if (args.bindkey !== undefined) {
      const key = parseHex(args.bindkey, '--bindkey')
      if (key.length !== 16) return { ok: false, message: `--bindkey: need 16 bytes (32 hex chars), got ${key.length}` }
      bindkeys.set(advert.address, key)
    }
    const decoded = decodeAdvert(advert, { bindkeys })
    if (decoded === undefined) return { ok: false, message: 'no decoder recognised this advert (BTHome, Ruuvi, iBeacon, Eddystone, ATC/pvvx)' }
    return { ok: true, decoded, readings: advertToReadings(advert, decoded) }
  } catch (err) {
    if (err instanceof GatewayError) {
      const reason = (err as { reason?: unknown }).reason
      return { ok: false, message: typeof reason === 'string' ? `${reason}: ${err.message}` : err.message }
    }
    // A bug, not bad input; still a message, not a crash, for a command-line tool.
    return { ok: false, message: `internal error: ${err instanceof Error ? err.message : String(err)}` }
  }
}

function parseServiceDataArg(arg: string): BleServiceData {
  const eq = arg.indexOf('=')
  if (eq <= 0) throw new CliArgError(`--service-data '${arg}': expected UUID=HEX`)
  const uuid = arg.slice(0, eq).trim().toLowerCase().replace(/^0x/, '')
  if (!/^([0-9a-f]{4}|[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/.test(uuid)) {
    throw new CliArgError(`--service-data '${arg}': UUID must be 16-bit (4 hex) or 128-bit`)
  }
  return { uuid, data: parseHex(arg.slice(eq + 1), `--service-data ${uuid}`) }
}

/** A bad command-line argument; reported like a decode failure. */
class CliArgError extends GatewayError {
  constructor(message: string) {
    super('GW_ERR_INPUT_REJECTED', message)
    this.name = 'CliArgError'
  }
}
