/** decodeBleCommand: the pure core of the future decode-ble CLI command. */
import { describe, expect, it } from 'vitest'
import { decodeBleCommand } from './cli-decode.js'

describe('decodeBleCommand', () => {
  it('decodes BTHome service data given as UUID=HEX', () => {
    const r = decodeBleCommand({ serviceData: ['fcd2=4002c40903bf13'], mac: 'A4:C1:38:8D:18:B2', timeMs: 5 })
    expect(r).toMatchObject({ ok: true, decoded: { format: 'bthome', measurements: { temperature: 25, humidity: 50.55 } } })
    expect(r.ok && r.readings).toEqual([{ deviceId: 'a4c1388d18b2', kind: 'environment', priority: 'telemetry', timeMs: 5, data: { temperatureC: 25, humidityPct: 50.55, encrypted: false } }])
  })

  it('decrypts with --bindkey and --mac; also accepts 128-bit UUIDs', () => {
    const r = decodeBleCommand({
      serviceData: ['0000fcd2-0000-1000-8000-00805f9b34fb=41e445f3c9962b332211006c7c4519'],
      mac: '54:48:E6:8F:80:A5',
      bindkey: '231d39c1d7cc1ab1aee224cd096db932',
    })
    expect(r).toMatchObject({ ok: true, decoded: { encrypted: true, encryptionCounter: 1122867 } })
  })

  it('decodes manufacturer data (Ruuvi)', () => {
    const r = decodeBleCommand({ manufacturerData: '99040512FC5394C37C0004FFFC040CAC364200CDCBB8334C884F' })
    expect(r).toMatchObject({ ok: true, decoded: { format: 'ruuvi', temperatureC: 24.3 } })
  })

  it.each([
    [{ serviceData: ['fcd2'] }, /UUID=HEX/],
    [{ serviceData: ['zz=00'] }, /UUID must be/],
    [{ serviceData: ['fcd2=4'] }, /bad_hex/],
    [{ serviceData: ['fcd2=41e445f3c9962b332211006c7c4519'], mac: '54:48:e6:8f:80:a5' }, /missing_bindkey/],
    [{ serviceData: ['fcd2=4002'], bindkey: '00' }, /needs --mac/],
    [{ serviceData: ['fcd2=4002'], mac: 'aa:bb:cc:dd:ee:ff', bindkey: '00' }, /16 bytes/],
    [{ serviceData: ['fcd2=4002'], mac: 'nope' }, /not a MAC/],
    [{ serviceData: ['fe95=00'] }, /no decoder recognised/],
    [{}, /no decoder recognised/],
  ])('reports %j as a message', (args, message) => {
    const r = decodeBleCommand(args)
    expect(r.ok).toBe(false)
    expect(!r.ok && r.message).toMatch(message)
  })
})
