/**
 * `edge-gateway decode ble|nmea` as an operator runs it (`node bin/edge-gateway.js`, compiled
 * dist/ from the global setup), fed with the public vectors in ../shared/vectors read at test time.
 * The decoders' own tests cover every vector field by field; here the point is the command: the
 * right bytes reach the decoder, the JSON printed is what the gateway would store, and "nothing
 * decodes" is exit 1 with the reason on stderr.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { mapLimit, repoRoot, runCli, type CliResult } from './support/cli-run.js'

const vectors = (name: string): any => JSON.parse(readFileSync(path.resolve(repoRoot, `../shared/vectors/${name}.json`), 'utf8'))
const bthome = vectors('bthome')
const nmea = vectors('nmea')
/** CLI runs at once: each is a Node process, the machine has 2 cores. */
const PARALLEL = 4

const json = (r: CliResult): any => JSON.parse(r.stdout)
const unwrap = (x: any): unknown => (x !== null && typeof x === 'object' && 'value' in x ? x.value : x)

function expectClose(actual: unknown, expected: unknown, what: string): void {
  if (typeof expected === 'number') expect(actual, what).toBeCloseTo(expected, 6)
  else expect(actual, what).toEqual(expected)
}

/** BTHome test_cases that exercise distinct paths: plain, encrypted, MAC-in-payload, binary, events, text, several UUIDs, refusals. */
const BTHOME_CASES = [
  'test_bindkey_correct', 'test_bindkey_wrong', 'test_bthome_with_mac_encrypted', 'test_bthome_temperature_humidity',
  'test_shelly_blu_ht_display_zb', 'test_bthome_event_button_long_press', 'test_bthome_event_triple_button_device',
  'test_bthome_text', 'test_bthome_triple_temperature_double_humidity_battery', 'test_bthome_multiple_uuids',
  'test_bthome_wrong_object_id', 'test_bthome_text_invalid',
].map((name) => {
  const c = bthome.test_cases.find((x: any) => x.id.startsWith(`bthome-ble:${name}`))
  if (!c) throw new Error(`bthome.json has no test case ${name}`)
  return c
})

function bleArgs(c: any): string[] {
  const services: Record<string, string> = c.all_service_data ?? { fcd2: c.service_data_hex }
  const args = ['decode', 'ble', '--mac', c.mac]
  for (const [uuid, hex] of Object.entries(services)) args.push('--service-data', `${uuid}=${hex}`)
  if (c.bindkey) args.push('--bindkey', c.bindkey)
  if (c.local_name) args.push('--name', c.local_name)
  return args
}

describe('edge-gateway decode ble (bthome.json)', () => {
  it('the bthome.io encryption example decrypts with --bindkey and --mac', async () => {
    const ex = bthome.encryption_example
    const r = await runCli(['decode', 'ble', '--service-data', `fcd2=${ex.service_data_hex}`, '--mac', ex.mac, '--bindkey', ex.key])
    expect(r.code, r.stderr).toBe(0)
    const out = json(r)
    expect(out).toMatchObject({ format: 'bthome', decoded: { encrypted: true, encryptionCounter: ex.counter, measurements: ex.expected } })
    expect(out.readings).toEqual([
      { deviceId: ex.mac.replace(/:/g, '').toLowerCase(), kind: 'environment', priority: 'telemetry', timeMs: expect.any(Number), data: { temperatureC: 25.06, humidityPct: 50.55, encrypted: true } },
    ])
  })

  it('bthome-ble test cases: the measurements, states and events it expects, or exit 1 with the reason', async () => {
    const results = await mapLimit(BTHOME_CASES, PARALLEL, (c) => runCli(bleArgs(c)))
    BTHOME_CASES.forEach((c, i) => {
      const r = results[i]!
      const errors: string[] = (c.decoded_objects_crosscheck ?? []).map((x: any) => x.error).filter(Boolean)
      if (errors.length > 0) {
        expect(r.code, `${c.id}: ${r.stdout}`).toBe(1)
        expect(r.stdout, c.id).toBe('')
        // wrong key: MIC; unknown object id: refused whole (no half-decoded data); invalid UTF-8
        // text: the object is skipped, which leaves nothing to store.
        expect(r.stderr, c.id).toMatch(/^edge-gateway decode ble: (bad_mic|unknown_object_id|no reading: the advert is bthome but carries nothing the gateway would store: .*UTF-8)/)
        return
      }
      expect(r.code, `${c.id}: ${r.stderr}`).toBe(0)
      const { decoded, readings } = json(r)
      const sensors = { ...c.expected.sensors }
      delete sensors.signal_strength // the fixture's RSSI, not payload (bthome.json notes[0])
      delete sensors.packet_id
      expect(Object.keys(decoded.measurements).sort(), c.id).toEqual(Object.keys(sensors).sort())
      for (const [k, v] of Object.entries(sensors)) expectClose(decoded.measurements[k], unwrap(v), `${c.id} ${k}`)
      expect(decoded.states, c.id).toEqual(c.expected.binary_sensors)
      const events = Object.fromEntries(decoded.events.map((e: any) => [e.name, e.event]))
      const want = Object.fromEntries(Object.entries(c.expected.events).map(([k, x]: [string, any]) => [k, typeof x === 'string' ? x : x.event_type]))
      expect(events, c.id).toEqual(want)
      // Each event is its own alert reading; the rest is telemetry.
      expect(readings.filter((x: any) => x.priority === 'alert'), c.id).toHaveLength(decoded.events.length)
      for (const reading of readings) expect(reading.deviceId, c.id).toBe(c.mac.replace(/:/g, '').toLowerCase())
    })
  })

  it('nothing recognisable, bad hex, a bindkey without --mac: exit 1 and one line on stderr', async () => {
    const [unknown, badHex, noMac] = await Promise.all([
      runCli(['decode', 'ble', '--service-data', 'fe95=3050']),
      runCli(['decode', 'ble', '--manufacturer-data', '99040z']),
      runCli(['decode', 'ble', '--service-data', 'fcd2=4002c409', '--bindkey', bthome.encryption_example.key]),
    ])
    expect(unknown).toMatchObject({ code: 1, stdout: '', stderr: 'edge-gateway decode ble: no decoder recognised this advert (BTHome, Ruuvi, iBeacon, Eddystone, ATC/pvvx)\n' })
    expect(badHex).toMatchObject({ code: 1, stdout: '' })
    expect(badHex.stderr).toMatch(/^edge-gateway decode ble: bad_hex/)
    expect(noMac).toMatchObject({ code: 1, stderr: 'edge-gateway decode ble: --bindkey needs --mac: the MAC is part of the encryption nonce\n' })
  })

  it('a missing option value is a usage error (64)', async () => {
    const r = await runCli(['decode', 'ble', '--service-data'])
    expect(r.code).toBe(64)
    expect(r.stderr).toMatch(/argument missing/)
  })
})

/** Sentence types the gateway models; the rest are `unsupported_sentence`. */
const MODELLED = new Set(['GGA', 'GNS', 'RMC', 'GLL', 'VTG', 'GSA', 'ZDA', 'GST', 'GSV'])

describe('edge-gateway decode nmea (nmea.json)', () => {
  const cases: any[] = nmea.cases
  const byId = (id: string): any => cases.find((c) => c.id === id)
  const seen = { decoded: 0, badChecksum: 0, unsupported: 0, noReading: 0 }

  /** What the vector should give: readings, or the reason nothing decodes. */
  function expectVector(c: any, r: { ok: boolean; sentence?: any; readings?: any[]; error?: string }): keyof typeof seen {
    const refused = (re: RegExp): void => {
      expect(r.ok, c.id).toBe(false)
      expect(r.error, c.id).toMatch(re)
    }
    if (c.checksum_valid !== true) {
      // false: a wrong checksum; null: none at all (a bit flip on the UART would go unnoticed).
      refused(/^bad_checksum: /)
      return 'badChecksum'
    }
    if (!MODELLED.has(c.sentence_id)) {
      refused(/^unsupported_sentence: /)
      return 'unsupported'
    }
    if (c.sentence_id === 'GSV' || c.expected.status === 'void') {
      refused(new RegExp(`^no reading: this ${c.sentence_id} sentence is valid but carries no usable data`))
      return 'noReading'
    }
    expect(r.ok, `${c.id}: ${r.error}`).toBe(true)
    expect(r.sentence, c.id).toMatchObject({ talker: c.talker_id, sentenceId: c.sentence_id })
    expect(r.readings!.length, c.id).toBeGreaterThan(0)
    for (const reading of r.readings!) {
      expect(reading, c.id).toMatchObject({ deviceId: 'gps-7', priority: 'telemetry', data: { sentence: c.sentence_id, talker: c.talker_id } })
      expect(reading.kind, c.id).toMatch(/^gnss\.(fix|course|dop|time|accuracy)$/)
    }
    const lat = c.expected.latitude ?? c.expected.latitude_derived
    const lon = c.expected.longitude ?? c.expected.longitude_derived
    if (typeof lat === 'number') {
      const fix = r.readings!.find((x: any) => x.kind === 'gnss.fix')
      expectClose(fix?.data.latitude, lat, `${c.id} latitude`)
      expectClose(fix?.data.longitude, lon, `${c.id} longitude`)
    }
    return 'decoded'
  }

  it('one sentence per outcome: JSON and exit 0, or exit 1 with the reason on stderr', async () => {
    const picks = ['nmea-simple:GGA', 'nmea-simple:RMC', 'nmea-simple:bad-checksum', 'pynmea2:ZDA-no-checksum', 'nmea-simple:HDM', 'nmea-simple:RMC-void'].map(byId)
    const results = await mapLimit(picks, PARALLEL, (c) => runCli(['decode', 'nmea', c.sentence, '--device', 'gps-7']))
    picks.forEach((c, i) => {
      const r = results[i]!
      if (r.code === 0) {
        expect(r.stderr, c.id).toBe('')
        expectVector(c, { ok: true, ...json(r) })
      } else {
        expect(r.code, c.id).toBe(1)
        expect(r.stdout, c.id).toBe('')
        expect(r.stderr, c.id).toMatch(/^edge-gateway decode nmea: .+\n$/)
        expectVector(c, { ok: false, error: r.stderr.replace(/^edge-gateway decode nmea: /, '') })
      }
    })
  })

  it('every vector through stdin (decode nmea -): one JSON line each; exit 1 because some give no reading', async () => {
    const r = await runCli(['decode', 'nmea', '-', '--device', 'gps-7'], { input: cases.map((c) => c.sentence).join('\r\n') + '\n\n' })
    const lines = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l))
    expect(lines).toHaveLength(cases.length)
    cases.forEach((c, i) => {
      expect(lines[i], c.id).toMatchObject({ line: i + 1, input: c.sentence })
      seen[expectVector(c, { ok: lines[i].error === undefined, ...lines[i] })]++
    })
    const refusedCount = seen.badChecksum + seen.unsupported + seen.noReading
    expect(r).toMatchObject({ code: 1, stderr: `edge-gateway decode nmea: ${refusedCount} of ${cases.length} line(s) gave no reading\n` })
    // The file has each outcome more than once; a change that sent everything one way would show here.
    expect(seen.decoded).toBeGreaterThanOrEqual(10)
    expect(Math.min(seen.badChecksum, seen.unsupported, seen.noReading)).toBeGreaterThanOrEqual(2)
  })

  it('stdin with only usable sentences exits 0', async () => {
    const good = ['nmea-simple:GGA', 'nmea-simple:GLL', 'nmea-simple:VTG'].map((id) => byId(id).sentence)
    const r = await runCli(['decode', 'nmea', '-'], { input: good.join('\n') })
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l).readings[0].kind)).toEqual(['gnss.fix', 'gnss.fix', 'gnss.course'])
  })

  it('a missing sentence is a usage error (64)', async () => {
    const r = await runCli(['decode', 'nmea'])
    expect(r.code).toBe(64)
    expect(r.stderr).toMatch(/missing required argument 'sentence'/)
  })
})
