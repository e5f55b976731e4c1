/**
 * A few simulated BLE sensors advertising real on-air bytes through a SimulatedBleBinding (so the
 * real noble and BleSource decode them): a BTHome v2 thermometer (with a button press now and
 * then, an alert), a RuuviTag (RAWv2) and an ATC1441 thermometer (name in the scan response).
 * For the demo; a BLE radio cannot be reached from another process, so this runs in-process.
 */
import { ADV_IND, type SimulatedBleBinding } from './ble-advertiser.js'
import { atcAdvert, atcScanResponse, bthomeAdvert, ruuviAdvert } from './ble-encoders.js'

export interface BleSensorInfo {
  mac: string
  family: 'bthome' | 'ruuvi' | 'atc1441'
}

/** The sensors {@link BleSensorSet} advertises, for banners and allow-lists. */
export const DEMO_BLE_SENSORS: readonly BleSensorInfo[] = [
  { mac: 'a4:c1:38:00:00:01', family: 'bthome' },
  { mac: 'cb:b8:33:4c:88:4f', family: 'ruuvi' },
  { mac: 'a4:c1:38:aa:bb:cc', family: 'atc1441' },
]

export class BleSensorSet {
  private round = 0
  private timer: NodeJS.Timeout | undefined

  /** @param buttonEvery every Nth round the BTHome sensor also reports a button press; 0 = never. @default 15 */
  constructor(
    private readonly binding: SimulatedBleBinding,
    private readonly buttonEvery = 15,
  ) {}

  /** One advert from every sensor. Returns how many `discover` events reached noble. */
  advertiseRound(): number {
    const r = ++this.round
    const temp = (base: number): number => Math.round((base + 1.5 * Math.sin(r / 8)) * 100) / 100
    const [bthome, ruuvi, atc] = DEMO_BLE_SENSORS as [BleSensorInfo, BleSensorInfo, BleSensorInfo]
    const press = this.buttonEvery > 0 && r % this.buttonEvery === 0
    let heard = this.binding.advertise(
      bthomeAdvert({ packetId: r & 0xff, batteryPct: 93, temperatureC: temp(21), humidityPct: 48.5, ...(press ? { button: 'press' as const } : {}) }),
      { address: bthome.mac, rssi: -58 },
    )
    heard += this.binding.advertise(
      ruuviAdvert({ temperatureC: temp(4), humidityPct: 71.25, pressurePa: 100_044, batteryMv: 2977, txPowerDbm: 4, measurementSequence: r & 0xffff, mac: ruuvi.mac }),
      { address: ruuvi.mac, rssi: -71 },
    )
    heard += this.binding.advertise(
      atcAdvert({ mac: atc.mac, temperatureC: temp(23), humidityPct: 41, batteryPct: 80, batteryMv: 2950, frameCounter: r & 0xff }),
      { address: atc.mac, rssi: -64, pduType: ADV_IND, scanResponse: atcScanResponse(atc.mac) },
    )
    return heard
  }

  /** Advertises a round every `intervalMs` until stop(). */
  start(intervalMs: number): void {
    this.timer ??= setInterval(() => this.advertiseRound(), intervalMs)
  }

  stop(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }
}
