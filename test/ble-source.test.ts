/**
 * BleSource end to end over the real noble code: SimulatedBleBinding (lowest layer, real advert
 * bytes through noble's GAP parser) -> lib/noble.js -> BleSource -> a recording sink.
 * "Nothing stored" is proven by sending a valid marker advert afterwards and awaiting it: the
 * queue is FIFO per class, so anything the bad advert produced would have arrived first.
 */
import { describe, expect, it } from 'vitest'
import { hexBuf } from '../drivers/decoders/testing/vectors.js'
import { ADV_IND } from '../firmware-sim/ble-advertiser.js'
import { atcAdvert, atcScanResponse, bthomeAdvert, flagsAd, ibeaconAdvert, manufacturerAd, ruuviAdvert, serviceData16Ad } from '../firmware-sim/ble-encoders.js'
import { BEACON, BINDKEY, BUTTON, RUUVI, STRANGER, THERMO, manualClock, startBleForTest } from './ble-harness.js'

const id = (mac: string) => mac.replace(/:/g, '')
const marker = (n: number) => bthomeAdvert({ packetId: n, temperatureC: 20 })
const MARKER = 'f0:00:00:00:00:01'

describe('each family becomes readings', () => {
  it('BTHome plain: one environment reading with units, packet id and rssi', async () => {
    const t = await startBleForTest()
    expect(t.source.health()).toEqual({ state: 'running', detail: 'scanning on adapter' })
    expect(t.binding.calls.startScanning).toEqual([{ serviceUuids: [], allowDuplicates: true }])
    t.binding.advertise(bthomeAdvert({ packetId: 1, batteryPct: 87, temperatureC: 21.5, humidityPct: 40.5 }), { address: THERMO, rssi: -71 })
    const [r] = await t.sink.waitFor(1)
    expect(r).toMatchObject({
      deviceId: id(THERMO),
      kind: 'environment',
      priority: 'telemetry',
      data: { batteryPct: 87, temperatureC: 21.5, humidityPct: 40.5, packetId: 1, encrypted: false, rssiDbm: -71 },
    })
    expect(Math.abs(r.timeMs - Date.now())).toBeLessThan(60_000)
  })

  it('BTHome encrypted with the configured bindkey (config MAC in upper case)', async () => {
    const t = await startBleForTest({ bindkeys: { [THERMO.toUpperCase()]: BINDKEY } })
    const advert = bthomeAdvert({ packetId: 9, temperatureC: 25.06, humidityPct: 50.55 }, { encrypt: { bindkey: hexBuf(BINDKEY), counter: 1, mac: THERMO } })
    t.binding.advertise(advert, { address: THERMO })
    const [r] = await t.sink.waitFor(1)
    expect(r).toMatchObject({ deviceId: id(THERMO), kind: 'environment', data: { temperatureC: 25.06, humidityPct: 50.55, encrypted: true } })
  })

  it('Ruuvi RAWv2: pressure in hPa, "not available" fields omitted', async () => {
    const t = await startBleForTest()
    t.binding.advertise(ruuviAdvert({ temperatureC: 24.3, humidityPct: 53.49, pressurePa: 100044, batteryMv: 2977, txPowerDbm: 4, movementCounter: 66, measurementSequence: 205, mac: RUUVI }), {
      address: RUUVI,
    })
    const [r] = await t.sink.waitFor(1)
    expect(r.kind).toBe('environment')
    expect(r.deviceId).toBe(id(RUUVI))
    expect(r.data).toEqual({
      dataFormat: 5,
      temperatureC: 24.3,
      humidityPct: 53.49,
      pressureHpa: 1000.44,
      batteryMv: 2977,
      txPowerDbm: 4,
      movementCounter: 66,
      measurementSequence: 205,
      mac: RUUVI,
      rssiDbm: -60,
    })
  })

  it('ATC1441 and pvvx, with the name in a scan response of a connectable advert', async () => {
    const t = await startBleForTest()
    const f = { mac: THERMO, temperatureC: 22.1, humidityPct: 45, batteryPct: 77, batteryMv: 2900, frameCounter: 3 }
    t.binding.advertise(atcAdvert(f), { address: THERMO, pduType: ADV_IND, scanResponse: atcScanResponse(THERMO) })
    t.binding.advertise(atcAdvert({ ...f, address: undefined, mac: RUUVI, temperatureC: -5.37 } as typeof f, 'pvvx'), { address: RUUVI })
    const [a, p] = await t.sink.waitFor(2)
    expect(a).toMatchObject({ deviceId: id(THERMO), kind: 'environment', data: { variant: 'atc1441', temperatureC: 22.1, humidityPct: 45, batteryPct: 77, batteryMv: 2900, frameCounter: 3 } })
    expect(p).toMatchObject({ deviceId: id(RUUVI), kind: 'environment', data: { variant: 'pvvx', temperatureC: -5.37 } })
  })

  it('iBeacon: beacon.ibeacon with UUID, major, minor, measured power', async () => {
    const t = await startBleForTest()
    t.binding.advertise(ibeaconAdvert({ uuid: 'fda50693-a4e2-4fb1-afcf-c6eb07647825', major: 10, minor: 20, txPowerDbm: -59 }), { address: BEACON, rssi: -80 })
    const [r] = await t.sink.waitFor(1)
    expect(r).toEqual({
      deviceId: id(BEACON),
      kind: 'beacon.ibeacon',
      priority: 'telemetry',
      timeMs: r.timeMs,
      data: { uuid: 'fda50693-a4e2-4fb1-afcf-c6eb07647825', major: 10, minor: 20, txPowerDbm: -59, rssiDbm: -80 },
    })
  })
})

describe('allow-list', () => {
  it('passes listed MACs (any case) and name patterns, ignores the rest without counting them as bad input', async () => {
    const t = await startBleForTest({ allow: [{ mac: THERMO.toUpperCase() }, { name: 'ATC_*' }] })
    const f = { mac: STRANGER, temperatureC: 1, humidityPct: 1, batteryPct: 1, batteryMv: 1, frameCounter: 1 }
    t.binding.advertise(bthomeAdvert({ packetId: 1, temperatureC: 20 }), { address: STRANGER })
    t.binding.advertise(atcAdvert(f), { address: STRANGER, pduType: ADV_IND, scanResponse: atcScanResponse(STRANGER) })
    t.binding.advertise(bthomeAdvert({ packetId: 2, temperatureC: 21 }), { address: THERMO })
    const readings = await t.sink.waitFor(2)
    expect(readings.map((r) => r.deviceId)).toEqual([id(STRANGER), id(THERMO)])
    expect(readings[0].data).toMatchObject({ variant: 'atc1441' })
    // noble's GAP reports a known device's connectable advert at once (before its scan response
    // names it), so the stranger is ignored twice and accepted once its name arrived.
    expect(t.source.stats()).toMatchObject({ adverts: 4, ignored: 2 })
    expect([...t.counters.totals.keys()]).toEqual([])
  })
})

describe('per-device minimum interval', () => {
  it('forwards the first advert per interval, counts the rest rate_limited, per device', async () => {
    const clock = manualClock(1000)
    const t = await startBleForTest({ minIntervalMs: '10s' }, { deps: { now: clock.now } })
    for (let i = 1; i <= 5; i++) t.binding.advertise(bthomeAdvert({ packetId: i, temperatureC: 20 + i }), { address: THERMO })
    t.binding.advertise(ruuviAdvert({ temperatureC: 5 }), { address: RUUVI })
    expect(t.rejected('rate_limited')).toBe(4)
    clock.t += 9_999
    t.binding.advertise(bthomeAdvert({ packetId: 6, temperatureC: 26 }), { address: THERMO })
    clock.t += 1
    t.binding.advertise(bthomeAdvert({ packetId: 7, temperatureC: 27 }), { address: THERMO })
    const readings = await t.sink.waitFor(3)
    expect(readings.map((r) => [r.deviceId, (r.data as { temperatureC: number }).temperatureC])).toEqual([
      [id(THERMO), 21],
      [id(RUUVI), 5],
      [id(THERMO), 27],
    ])
    expect(t.rejected('rate_limited')).toBe(5)
  })

  it('a BTHome button press is an alert and bypasses the interval; so do trigger-based adverts', async () => {
    const clock = manualClock()
    const t = await startBleForTest({ minIntervalMs: 60_000 }, { deps: { now: clock.now } })
    t.binding.advertise(bthomeAdvert({ packetId: 1, batteryPct: 90 }), { address: BUTTON })
    t.binding.advertise(bthomeAdvert({ packetId: 2, batteryPct: 90, button: 'press' }), { address: BUTTON })
    t.binding.advertise(bthomeAdvert({ packetId: 3, batteryPct: 90, button: 'double_press' }), { address: BUTTON })
    t.binding.advertise(bthomeAdvert({ packetId: 1, windowOpen: true }, { triggerBased: true }), { address: THERMO })
    t.binding.advertise(bthomeAdvert({ packetId: 2, windowOpen: false }, { triggerBased: true }), { address: THERMO })
    const readings = await t.sink.waitFor(7)
    const alerts = readings.filter((r) => r.priority === 'alert')
    expect(alerts.map((r) => r.kind)).toEqual(['button.press', 'button.double_press'])
    expect(alerts[0]).toMatchObject({ deviceId: id(BUTTON), data: { name: 'button', code: 1, packetId: 2 } })
    expect(t.sink.of(id(THERMO)).map((r) => [r.kind, r.data])).toEqual([
      ['state', { window: true, packetId: 1, encrypted: false, rssiDbm: -60 }],
      ['state', { window: false, packetId: 2, encrypted: false, rssiDbm: -60 }],
    ])
    expect(t.rejected('rate_limited')).toBe(0)
  })
})

describe('bad adverts are counted and logged rate-limited; valid traffic keeps flowing', () => {
  it('wrong bindkey -> bad_mic, nothing stored; missing key and downgrade are refused too', async () => {
    const wrongKey = hexBuf('814aac74c4f17b6c1581e1ab87816b99')
    const t = await startBleForTest({ bindkeys: { [THERMO]: BINDKEY } })
    t.binding.advertise(bthomeAdvert({ packetId: 1, temperatureC: 20 }, { encrypt: { bindkey: wrongKey, counter: 1, mac: THERMO } }), { address: THERMO })
    t.binding.advertise(bthomeAdvert({ packetId: 2, temperatureC: 20 }, { encrypt: { bindkey: wrongKey, counter: 2, mac: BUTTON } }), { address: BUTTON })
    t.binding.advertise(bthomeAdvert({ packetId: 3, temperatureC: 20 }), { address: THERMO })
    t.binding.advertise(marker(1), { address: MARKER })
    expect(await t.sink.waitFor(1)).toHaveLength(1)
    expect(t.sink.readings[0].deviceId).toBe(id(MARKER))
    expect([t.rejected('bad_mic'), t.rejected('missing_bindkey'), t.rejected('encryption_downgrade')]).toEqual([1, 1, 1])
    const line = t.logger.lines.find((l) => l.obj.reason === 'bad_mic')!
    expect(line).toMatchObject({ level: 'warn', obj: { code: 'GW_ERR_INPUT_REJECTED', address: THERMO, suppressed: 0 } })
    expect(JSON.stringify(t.logger.lines)).not.toContain(BINDKEY)
  })

  it('truncated, unknown object id, replayed packet id and counter, oversize, unknown family', async () => {
    const t = await startBleForTest({ bindkeys: { [BUTTON]: BINDKEY } })
    const ok = (n: number) => t.binding.advertise(bthomeAdvert({ packetId: n, temperatureC: 20 + n }), { address: THERMO })
    const enc = (counter: number, packetId: number) =>
      bthomeAdvert({ packetId, button: 'press' }, { encrypt: { bindkey: hexBuf(BINDKEY), counter, mac: BUTTON } })
    ok(1)
    // A temperature object cut after its first byte.
    t.binding.advertise(Buffer.concat([flagsAd(), serviceData16Ad(0xfcd2, Buffer.from([0x40, 0x00, 0x05, 0x02, 0xc4]))]), { address: THERMO })
    t.binding.advertise(bthomeAdvert({ packetId: 2, extraObjects: Buffer.from([0xfe, 0x01]) }), { address: THERMO })
    ok(3)
    ok(3) // the device repeating itself
    t.binding.advertise(enc(10, 1), { address: BUTTON })
    t.binding.advertise(enc(10, 1), { address: BUTTON }) // a captured advert re-broadcast
    t.binding.advertise(enc(11, 2), { address: BUTTON })
    t.binding.advertise(Buffer.concat([flagsAd(), serviceData16Ad(0xfcd2, Buffer.alloc(40, 0x40))]), { address: THERMO })
    t.binding.advertise(Buffer.concat([flagsAd(), manufacturerAd(0x1234, Buffer.from('hello'))]), { address: STRANGER })
    ok(4)
    const readings = await t.sink.waitFor(5)
    const tag = (r: (typeof readings)[number]) => `${r.kind}:${(r.data as { packetId: number }).packetId}`
    // Alerts leave the queue before telemetry; each class keeps its order.
    expect(readings.filter((r) => r.priority === 'alert').map(tag)).toEqual(['button.press:1', 'button.press:2'])
    expect(readings.filter((r) => r.priority === 'telemetry').map(tag)).toEqual(['environment:1', 'environment:3', 'environment:4'])
    const reasons = ['truncated', 'unknown_object_id', 'duplicate_packet_id', 'replayed_counter', 'oversize', 'unknown_advert']
    expect(Object.fromEntries(reasons.map((r) => [r, t.rejected(r)]))).toEqual({
      truncated: 1,
      unknown_object_id: 1,
      duplicate_packet_id: 1,
      replayed_counter: 1,
      oversize: 1,
      unknown_advert: 1,
    })
    // Routine reasons are counted only; broken and suspicious input is also logged.
    const logged = new Set(t.logger.lines.map((l) => l.obj.reason).filter(Boolean))
    expect(logged).toEqual(new Set(['truncated', 'unknown_object_id', 'replayed_counter', 'oversize']))
    expect(t.source.health().state).toBe('running')
  })

  it('logs one line per reason per 10 s, then one with the suppressed count', async () => {
    const clock = manualClock()
    const t = await startBleForTest({}, { deps: { now: clock.now } })
    const bad = Buffer.concat([flagsAd(), serviceData16Ad(0xfcd2, Buffer.from([0x40, 0x02, 0xc4]))])
    for (let i = 0; i < 50; i++) t.binding.advertise(bad, { address: THERMO })
    clock.t += 10_000
    t.binding.advertise(bad, { address: THERMO })
    const lines = t.logger.lines.filter((l) => l.obj.reason === 'truncated')
    expect(lines.map((l) => l.obj.suppressed)).toEqual([0, 49])
    expect(t.rejected('truncated')).toBe(51)
  })

  it('raw: undecodable adverts from allowed devices become ble.raw readings (base64)', async () => {
    const t = await startBleForTest({ raw: true, allow: [{ mac: STRANGER }] })
    t.binding.advertise(Buffer.concat([flagsAd(), manufacturerAd(0x1234, Buffer.from('hello'))]), { address: STRANGER })
    t.binding.advertise(Buffer.concat([flagsAd(), manufacturerAd(0x1234, Buffer.from('hello'))]), { address: MARKER })
    const [r] = await t.sink.waitFor(1)
    expect(r).toMatchObject({
      deviceId: id(STRANGER),
      kind: 'ble.raw',
      priority: 'telemetry',
      data: { serviceData: [], manufacturerDataBase64: Buffer.from([0x34, 0x12, ...Buffer.from('hello')]).toString('base64'), rssiDbm: -60 },
    })
    expect(t.source.stats().ignored).toBe(1)
  })
})
