/**
 * BTHome v2 decoder (bthome.io/format). Service data under 16-bit UUID 0xFCD2:
 *
 *   devinfo (bit0 encrypted, bit1 MAC included, bit2 trigger-based, bits5-7 version = 2)
 *   [MAC, 6 bytes reversed, only when bit1]  objects... (or the encrypted form, see bthome-crypto.ts)
 *
 * Decisions where sources disagree (../shared/vectors/bthome.json notes):
 * - devinfo bit 1: bthome.io says "reserved", bthome-ble 3.20 reads a 6-byte MAC after devinfo
 *   (device_information_byte.bit1, cases test_bthome_with_mac*). We follow bthome-ble: a
 *   spec-conformant device never sets the bit, so this only adds support.
 * - Unknown object id: both say a receiver cannot skip it (its length is unknown) and stops
 *   (parsing_rules[0]); bthome-ble keeps what came before. Our default throws
 *   `unknown_object_id` (nothing half-decoded reaches the store); `unknownObjectId: 'stop'`
 *   gives the bthome.io/bthome-ble behaviour and records a warning.
 * - Unknown event codes on known objects (button 0xFE, case test_bthome_invalid_button_event and
 *   theengs test_uuid_name_svcdata[25]): bthome-ble drops the event, Theengs calls it "hold". The
 *   object's length is known, so we keep parsing and report event `unknown` with its raw `code`:
 *   a button press is never silently lost, and we do not invent a meaning the spec lacks.
 * - 0x3B command and 0x65 settings revision are in bthome.io but not in bthome-ble 3.20: decoded.
 * - Text that is not valid UTF-8 (test_bthome_text_invalid) is skipped with a warning, like
 *   bthome-ble; the rest of the advert is still good.
 * - Out-of-order object ids are parsed (bthome-ble) with a warning.
 */
import { DecodeError } from '../../gateway/core/errors.js'
import type { BleAdvert, DecodeOptions } from './advert.js'
import { bindkeyFor, serviceDataFor } from './advert-util.js'
import { decryptBthomePayload } from './bthome-crypto.js'
import { BthomeEventCollector, type BthomeEvent } from './bthome-events.js'
import { BTHOME_OBJECTS, type ObjectDef, type SpecialDef } from './bthome-objects.js'
import { formatMac, hex, macBytes, need, scaled } from './bytes.js'

export type { BthomeEvent } from './bthome-events.js'

/** 16-bit service UUID sponsored by Allterco for BTHome (bthome.io/format, "UUID"). */
export const BTHOME_UUID16 = 'fcd2'

/** One decoded measurement or state, in payload order. */
export interface BthomeObject {
  objectId: number
  /** bthome-ble style key, postfixed `_1`, `_2`... when repeated. */
  name: string
  /** Reading data key with unit (`temperatureC`), postfixed like `name`. */
  key: string
  value: number | string | boolean
  unit?: string
  binary: boolean
}

/** A decoded BTHome v2 advert. */
export interface BthomeDecoded {
  format: 'bthome'
  version: 2
  encrypted: boolean
  triggerBased: boolean
  /** MAC carried in the payload (devinfo bit 1), lower-case colon form. */
  mac?: string
  packetId?: number
  encryptionCounter?: number
  /** Sensor values by bthome-ble key (numbers; text, raw hex and ISO timestamps as strings). */
  measurements: Record<string, number | string>
  /** Binary sensors by bthome-ble key. */
  states: Record<string, boolean>
  events: BthomeEvent[]
  objects: BthomeObject[]
  device: { deviceTypeId?: number; firmwareVersion?: string }
  warnings: string[]
}

/**
 * Decodes the BTHome service data of `advert`. Returns undefined when the advert has no 0xFCD2
 * service data; throws DecodeError (`truncated`, `unsupported_version`, `unknown_object_id`,
 * `missing_bindkey`, `bad_bindkey`, `bad_mic`, `encryption_downgrade`, `bad_format`) otherwise.
 */
export function decodeBthome(advert: BleAdvert, opts: DecodeOptions = {}): BthomeDecoded | undefined {
  const data = serviceDataFor(advert, BTHOME_UUID16)
  if (data === undefined) return undefined
  return decodeBthomeServiceData(data, advert.address, opts)
}

/** Decodes BTHome service data (the bytes after the UUID). See {@link decodeBthome}. */
export function decodeBthomeServiceData(data: Buffer, address: string, opts: DecodeOptions = {}): BthomeDecoded {
  need(data, 0, 1, 'BTHome device information byte')
  const info = data[0]
  const version = info >> 5
  if (version !== 2) {
    throw new DecodeError('unsupported_version', `BTHome version ${version} in devinfo 0x${info.toString(16)}; only v2 uses 0xFCD2`)
  }
  const out = emptyResult(info)
  let offset = 1
  let nonceMac = macBytes(address)
  if (info & 0x02) {
    need(data, offset, 6, 'BTHome MAC (devinfo bit 1)')
    nonceMac = Buffer.from(data.subarray(offset, offset + 6)).reverse()
    out.mac = formatMac(nonceMac)
    offset += 6
  }
  const key = bindkeyFor(opts, address)
  let objects = data.subarray(offset)
  if (out.encrypted) {
    if (!key) throw new DecodeError('missing_bindkey', `BTHome advert from ${address} is encrypted and no bindkey is configured`)
    if (!nonceMac) throw new DecodeError('bad_address', `cannot build the BTHome nonce: '${address}' is not a MAC`)
    const plain = decryptBthomePayload(data, offset, nonceMac, key)
    objects = plain.objects
    out.encryptionCounter = plain.counter
  } else if (key) {
    // A configured key means the device encrypts; plaintext now is a spoof or a downgrade
    // (bthome-ble test_encryption_downgrade_fails).
    throw new DecodeError('encryption_downgrade', `unencrypted BTHome advert from ${address}, which has a bindkey`)
  }
  parseObjects(objects, out, opts)
  return out
}

function emptyResult(info: number): BthomeDecoded {
  return {
    format: 'bthome',
    version: 2,
    encrypted: (info & 0x01) !== 0,
    triggerBased: (info & 0x04) !== 0,
    measurements: {},
    states: {},
    events: [],
    objects: [],
    device: {},
    warnings: [],
  }
}

function parseObjects(p: Buffer, out: BthomeDecoded, opts: DecodeOptions): void {
  const events = new BthomeEventCollector()
  let lastId = -1
  let offset = 0
  while (offset < p.length) {
    const id = p[offset]
    const def = BTHOME_OBJECTS.get(id)
    if (!def) {
      const msg = `unknown BTHome object id 0x${id.toString(16).padStart(2, '0')} at offset ${offset}; its length is unknown so parsing cannot continue`
      if (opts.unknownObjectId !== 'stop') throw new DecodeError('unknown_object_id', msg)
      out.warnings.push(msg)
      break
    }
    if (id < lastId && !out.warnings.some((w) => w.startsWith('object ids'))) {
      out.warnings.push('object ids not in numerical order (bthome.io: sent low to high)')
    }
    lastId = id
    offset = decodeObject(def, id, p, offset + 1, out, events)
  }
  nameObjects(out)
  out.events = events.finish()
}

function decodeObject(
  def: ObjectDef,
  id: number,
  p: Buffer,
  at: number,
  out: BthomeDecoded,
  events: BthomeEventCollector,
): number {
  const what = `BTHome object 0x${id.toString(16).padStart(2, '0')} (${def.name})`
  if (def.kind === 'number') {
    need(p, at, def.bytes, what)
    const raw = def.signed ? p.readIntLE(at, def.bytes) : p.readUIntLE(at, def.bytes)
    out.objects.push({ objectId: id, name: def.name, key: def.key, value: scaled(raw, def.div, def.mul), unit: def.unit, binary: false })
    return at + def.bytes
  }
  if (def.kind === 'binary') {
    need(p, at, 1, what)
    out.objects.push({ objectId: id, name: def.name, key: def.key, value: p[at] !== 0, binary: true })
    return at + 1
  }
  const push = (value: string) => out.objects.push({ objectId: id, name: def.name, key: def.key, value, binary: false })
  if (def.bytes === undefined) return decodeLengthPrefixed(def, p, at, what, out, events, push)
  need(p, at, def.bytes, what)
  decodeFixed(def, p.subarray(at, at + def.bytes), out, events, push)
  return at + def.bytes
}

/** text (0x53), raw (0x54), command (0x3B): a length byte, then the body. */
function decodeLengthPrefixed(
  def: SpecialDef,
  p: Buffer,
  at: number,
  what: string,
  out: BthomeDecoded,
  events: BthomeEventCollector,
  push: (v: string) => void,
): number {
  need(p, at, 1, what)
  let len = p[at]
  if (def.kind === 'command') {
    // bthome.io "Commands": high 3 bits reserved (0); a set bit may mean a longer layout we
    // cannot size, so stop rather than guess.
    if (len & 0xe0) throw new DecodeError('bad_format', `${what}: reserved bits set in 0x${len.toString(16)}`)
    len += 1 // the opcode
  }
  need(p, at + 1, len, what)
  const body = p.subarray(at + 1, at + 1 + len)
  if (def.kind === 'raw') push(hex(body))
  else if (def.kind === 'text') pushText(body, what, out, push)
  else events.command(body)
  return at + 1 + len
}

function decodeFixed(def: SpecialDef, body: Buffer, out: BthomeDecoded, events: BthomeEventCollector, push: (v: string) => void): void {
  switch (def.kind) {
    case 'packet_id':
      out.packetId = body[0]
      break
    case 'timestamp':
      push(new Date(body.readUInt32LE(0) * 1000).toISOString().replace('.000Z', 'Z'))
      break
    case 'device_type':
      out.device.deviceTypeId = body.readUInt16LE(0)
      break
    case 'firmware':
      // Little-endian: F100010204 is 4.2.1.0 (bthome.io "Device information").
      out.device.firmwareVersion = [...body].reverse().join('.')
      break
    case 'button':
      events.button(body[0])
      break
    case 'dimmer':
      events.dimmer(body[0], body[1])
      break
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

function pushText(body: Buffer, what: string, out: BthomeDecoded, push: (v: string) => void): void {
  try {
    push(utf8.decode(body))
  } catch {
    out.warnings.push(`${what}: not valid UTF-8 (${hex(body)}), skipped`)
  }
}

/** Applies bthome-ble's `_1`, `_2` postfixes to repeated names and fills the lookup maps. */
function nameObjects(out: BthomeDecoded): void {
  const total = new Map<string, number>()
  const tag = (o: BthomeObject) => `${o.binary ? 'b' : 's'}:${o.name}`
  for (const o of out.objects) total.set(tag(o), (total.get(tag(o)) ?? 0) + 1)
  const seen = new Map<string, number>()
  for (const o of out.objects) {
    const t = tag(o)
    if ((total.get(t) ?? 0) > 1) {
      const n = (seen.get(t) ?? 0) + 1
      seen.set(t, n)
      o.name = `${o.name}_${n}`
      o.key = `${o.key}_${n}`
    }
    if (typeof o.value === 'boolean') out.states[o.name] = o.value
    else out.measurements[o.name] = o.value
  }
}
