/**
 * Property: whatever arrives through `discover`, the source neither throws (into noble, which
 * would drop the rest of the HCI event) nor stops; every refused advert is counted under a known
 * reason, never as `internal_error`; and a valid advert afterwards still becomes a reading.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KNOWN_REASONS } from '../drivers/decoders/testing/valid-adverts.js'
import { hexBuf } from '../drivers/decoders/testing/vectors.js'
import { adStructure, atcAdvert, bthomeAdvert, ibeaconAdvert, ruuviAdvert } from '../firmware-sim/ble-encoders.js'
import { BINDKEY, THERMO, startBle } from './ble-harness.js'

const MACS = [THERMO, 'cb:b8:33:4c:88:4f', '54:48:e6:00:00:01', 'c0:ff:ee:00:00:01']
const SOURCE_REASONS = ['unknown_advert', 'duplicate_packet_id', 'replayed_counter', 'rate_limited', 'queue_full', 'bad_address']
const ALLOWED = new Set([...KNOWN_REASONS, ...SOURCE_REASONS])

let t: Awaited<ReturnType<typeof startBle>>
beforeAll(async () => {
  // Small queue and a real interval: the fuzz also exercises eviction and the gate.
  t = await startBle({ maxQueued: 50, minIntervalMs: 5, bindkeys: { [THERMO]: BINDKEY } })
})
afterAll(async () => {
  await t.stop()
})

const mac = fc.constantFrom(...MACS)
// size 'max': lengths spread over the whole range, so the 31-byte limit is crossed too.
const bytes = (max: number) => fc.uint8Array({ maxLength: max, size: 'max' }).map((a) => Buffer.from(a))
/** AD structures our decoders (and noble's GAP) look at, with random bodies and sometimes lying lengths. */
const adStruct = fc.oneof(
  fc.record({ uuid: fc.constantFrom(0xfcd2, 0x181a, 0xfeaa, 0x1234), data: bytes(40) }).map(({ uuid, data }) =>
    adStructure(0x16, Buffer.concat([Buffer.from([uuid & 0xff, uuid >> 8]), data])),
  ),
  fc.record({ company: fc.constantFrom(0x0499, 0x004c, 0xffff), data: bytes(40) }).map(({ company, data }) =>
    adStructure(0xff, Buffer.concat([Buffer.from([company & 0xff, company >> 8]), data])),
  ),
  fc.record({ type: fc.integer({ min: 0, max: 255 }), data: bytes(30) }).map(({ type, data }) => adStructure(type, data)),
  bytes(8),
)
const validAdvert = fc.oneof(
  fc.integer({ min: 0, max: 255 }).map((p) => bthomeAdvert({ packetId: p, temperatureC: 21.5, humidityPct: 40, button: 'press' })),
  fc.integer({ min: 0, max: 0xffffffff }).map((c) => bthomeAdvert({ temperatureC: 1 }, { encrypt: { bindkey: hexBuf(BINDKEY), counter: c, mac: THERMO } })),
  fc.constant(ruuviAdvert({ temperatureC: 24.3, humidityPct: 53.49, pressurePa: 100044, mac: 'cb:b8:33:4c:88:4f' })),
  fc.constant(atcAdvert({ mac: THERMO, temperatureC: 22.1, humidityPct: 45, batteryPct: 77, batteryMv: 2900, frameCounter: 3 }, 'pvvx')),
  fc.constant(ibeaconAdvert({ uuid: 'fda50693a4e24fb1afcfc6eb07647825', major: 1, minor: 2, txPowerDbm: -59 })),
)
/** A valid advert with random bytes overwritten and/or a random cut. */
const mutated = fc
  .tuple(validAdvert, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.option(fc.nat()))
  .map(([adv, flips, cut]) => {
    const b = Buffer.from(adv)
    for (const [at, v] of flips) b[at % b.length] = v
    return cut === null ? b : b.subarray(0, cut % (b.length + 1))
  })

function checkHealthyAndCounted(): void {
  expect(t.source.health().state).toBe('running')
  const reasons = [...t.counters.totals.keys()].map((k) => k.slice('ble1:'.length))
  for (const r of reasons) expect(ALLOWED, `unexpected reason ${r}`).toContain(r)
}

describe('random discover payloads never crash the source', () => {
  it('raw advertising data through noble’s GAP parser', () => {
    const eir = fc.oneof(bytes(62), fc.array(adStruct, { maxLength: 5 }).map((s) => Buffer.concat(s)), mutated)
    fc.assert(
      fc.property(eir, mac, fc.integer({ min: -128, max: 127 }), fc.boolean(), (data, address, rssi, extended) => {
        t.binding.advertise(data, { address, rssi, extended })
      }),
      { numRuns: 1500 },
    )
    checkHealthyAndCounted()
  })

  it('arbitrary advertisement objects and addresses straight from the binding', () => {
    const serviceData = fc.array(fc.record({ uuid: fc.oneof(fc.constantFrom('fcd2', 'FCD2', '181a', 'feaa'), fc.anything()), data: fc.oneof(bytes(40), fc.anything()) }, { requiredKeys: [] }), {
      maxLength: 3,
    })
    const advertisement = fc.oneof(
      fc.anything(),
      fc.record(
        {
          localName: fc.oneof(fc.string(), fc.anything()),
          serviceData: fc.oneof(serviceData, fc.anything()),
          manufacturerData: fc.oneof(bytes(40), fc.anything()),
          serviceUuids: fc.oneof(fc.array(fc.string()), fc.anything()),
          txPowerLevel: fc.anything(),
        },
        { requiredKeys: [] },
      ),
    )
    const address = fc.oneof(mac, fc.string(), fc.constant(''), fc.constant(undefined), fc.integer())
    fc.assert(
      fc.property(address, advertisement, fc.anything(), fc.string(), (addr, ad, rssi, uuid) => {
        t.binding.discoverRaw(addr as string, ad, rssi as number, { uuid: `u${uuid}` })
      }),
      { numRuns: 1500 },
    )
    checkHealthyAndCounted()
  })

  it('a valid advert afterwards still becomes a reading', async () => {
    const before = t.sink.readings.length
    t.binding.advertise(ruuviAdvert({ temperatureC: -12.5 }), { address: 'c0:ff:ee:99:99:99' })
    const readings = await t.sink.waitFor(before + 1)
    expect(readings.at(-1)).toMatchObject({ deviceId: 'c0ffee999999', kind: 'environment', data: { temperatureC: -12.5 } })
    expect(t.rejected('internal_error')).toBe(0)
    expect(t.source.stats().queued).toBeLessThanOrEqual(50)
  })
})
