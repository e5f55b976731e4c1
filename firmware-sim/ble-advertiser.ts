/**
 * A simulated Bluetooth adapter at noble's lowest replaceable layer: an object implementing the
 * noble BINDING interface (what lib/hci-socket/bindings.js implements), so the real lib/noble.js
 * and everything above it run in tests.
 *
 * Binding contract (noble 1.9.2-26, lib/noble.js and lib/hci-socket/bindings.js):
 *   methods  init() · startScanning(serviceUuids, allowDuplicates) · stopScanning() ·
 *            setScanParameters() · reset() (+ GATT methods, unused by the gateway: they throw here)
 *   events   stateChange(state) · scanStart(filterDuplicates) · scanStop() ·
 *            discover(uuid, address, addressType, connectable, advertisement, rssi, scannable)
 * noble calls init() lazily, on the first `stateChange` listener.
 *
 * Advert bytes are REAL: tests hand raw advertising data (built with ble-encoders.ts) to
 * {@link SimulatedBleBinding.advertise}, which feeds it to noble's own GAP layer
 * (lib/hci-socket/gap.js, the code that parses HCI LE Advertising Reports on a real adapter) with
 * a stand-in for the HCI socket. So the `advertisement` objects, including noble's quirks (scan
 * response merging, fields kept from earlier reports), are exactly what the hci binding emits.
 * Like hci.js, an exception inside noble's parser is caught and counted (`parseErrors`); one
 * thrown by noble.js or the gateway above it is NOT caught, so tests see it.
 */
import { EventEmitter, once } from 'node:events'
import { createRequire } from 'node:module'
import type { AdapterState, NobleLike } from '../drivers/ble/noble-like.js'

const require = createRequire(import.meta.url)

interface GapLike extends EventEmitter {
  _discoveries: Record<string, unknown>
}
// Loading gap.js opens no socket (it requires only debug/events/os/util); hci.js would.
const Gap = require('@abandonware/noble/lib/hci-socket/gap.js') as new (hci: EventEmitter) => GapLike
const withBindings = require('@abandonware/noble/with-bindings') as (bindings: unknown) => NobleLike

/** HCI LE Advertising Report event types (Core spec Vol 4 Part E 7.7.65.2). */
export const ADV_IND = 0x00
export const ADV_SCAN_IND = 0x02
export const ADV_NONCONN_IND = 0x03
export const SCAN_RSP = 0x04

export interface AdvertiseOptions {
  /** `aa:bb:cc:dd:ee:ff`, lower case as hci.js prints it. */
  address: string
  /** @default 'public' */
  addressType?: 'public' | 'random'
  /** dBm; 127 = not available. @default -60 */
  rssi?: number
  /** Report type. Sensors use ADV_NONCONN_IND; with ADV_IND noble waits for a scan response or a 2nd report. @default ADV_NONCONN_IND */
  pduType?: number
  /** Scan response data, reported right after the advert (noble merges it into the same advertisement). */
  scanResponse?: Buffer
  /** Deliver as an LE Extended Advertising Report (Bluetooth 5). @default false */
  extended?: boolean
}

export interface SimulatedBleBindingOptions {
  /** State reported when noble inits the binding. @default 'poweredOn' */
  initialState?: AdapterState
  /** Make init() throw like a socket bind failure, e.g. 'ENODEV' (noble turns it into a `warning`). */
  failInitWith?: string
  /** Never report a state (a hung adapter). @default false */
  silent?: boolean
}

type DiscoverArgs = [string, string, string, boolean, unknown, number, boolean]

export class SimulatedBleBinding extends EventEmitter {
  /** What noble asked for, for assertions. */
  readonly calls = { init: 0, startScanning: [] as Array<{ serviceUuids: unknown; allowDuplicates: unknown }>, stopScanning: 0 }
  /** Reports noble's GAP parser threw on (hci.js catches and logs these). */
  parseErrors = 0
  /** Adverts sent while the radio was off or not scanning (nobody heard them). */
  unheard = 0
  private state: AdapterState = 'unknown'
  private scanning = false
  /** True once scanStart was emitted for the current scan (noble has confirmed it to its callers). */
  private scanConfirmed = false
  private readonly hci = new EventEmitter()
  /** Named like the hci binding's field, so code that trims noble's caches finds it. */
  readonly _gap: GapLike
  private pending: DiscoverArgs[] = []

  constructor(private readonly opts: SimulatedBleBindingOptions = {}) {
    super()
    this._gap = new Gap(this.hci)
    this._gap.on('discover', (_status: number, address: string, addressType: string, connectable: boolean, advertisement: unknown, rssi: number, scannable: boolean) => {
      // Same uuid rule as hci-socket bindings.js onDiscover.
      this.pending.push([address.split(':').join(''), address, addressType, connectable, advertisement, rssi, scannable])
    })
  }

  // ---- binding interface (called by noble) ----

  init(): void {
    this.calls.init++
    if (this.opts.failInitWith) {
      const code = this.opts.failInitWith
      throw Object.assign(new Error(`${code}, simulated adapter bind failure`), { code })
    }
    if (!this.opts.silent) this.setState(this.opts.initialState ?? 'poweredOn')
  }

  startScanning(serviceUuids: unknown, allowDuplicates: unknown): void {
    this.calls.startScanning.push({ serviceUuids, allowDuplicates })
    if (this.state !== 'poweredOn') return // a real controller refuses; noble already checks its state
    this.scanning = true
    this.scanConfirmed = false
    // HCI answers the scan-enable command asynchronously.
    process.nextTick(() => {
      if (!this.scanning) return
      this.scanConfirmed = true
      this.emit('scanStart', !allowDuplicates)
    })
  }

  stopScanning(): void {
    this.calls.stopScanning++
    const was = this.scanning
    this.scanning = false
    this.scanConfirmed = false
    if (was) process.nextTick(() => this.emit('scanStop'))
  }

  setScanParameters(): void {
    process.nextTick(() => this.emit('scanParametersSet'))
  }

  reset(): void {}

  connect(): void {
    throw new Error('SimulatedBleBinding does not support connections')
  }

  // ---- the simulated world (called by tests) ----

  /** Current adapter state. */
  get adapterState(): AdapterState {
    return this.state
  }

  get isScanning(): boolean {
    return this.scanning
  }

  /** Reports a new adapter state, like hci.js does when the device goes up/down. */
  setState(state: AdapterState): void {
    if (state !== 'poweredOn') this.scanning = this.scanConfirmed = false
    if (state === this.state) return
    this.state = state
    this.emit('stateChange', state)
  }

  /** The adapter disappears (rfkill, USB dongle pulled): scanning stops, noble reports poweredOff. */
  powerOff(): void {
    this.setState('poweredOff')
  }

  /** The adapter is back; noble reports poweredOn and it is up to the application to scan again. */
  powerOn(): void {
    this.setState('poweredOn')
  }

  /** Another program stops the scan (what bluetoothd sometimes does): noble sees scanStop. */
  stopScanningExternally(): void {
    if (!this.scanning) return
    this.scanning = this.scanConfirmed = false
    this.emit('scanStop')
  }

  /** Resolves once a scan has started and noble has been told (immediately if so). */
  async whenScanning(): Promise<void> {
    if (this.scanning && this.scanConfirmed) return
    await once(this, 'scanStart')
  }

  /**
   * One advertising report with raw advertising data `eir`, through noble's GAP parser. Returns
   * how many `discover` events reached noble (0 when not scanning, or when noble's GAP waits for
   * a scan response). Does not catch what noble.js or its listeners throw.
   */
  advertise(eir: Buffer, opts: AdvertiseOptions): number {
    if (!this.scanning) {
      this.unheard++
      return 0
    }
    const { address, addressType = 'public', rssi = -60, pduType = ADV_NONCONN_IND } = opts
    // One HCI event per report: noble handles each report's discover before parsing the next
    // (the scan response mutates the same advertisement object).
    let emitted = this.report(pduType, address, addressType, eir, rssi, opts.extended ?? false)
    if (opts.scanResponse) emitted += this.report(SCAN_RSP, address, addressType, opts.scanResponse, rssi, opts.extended ?? false)
    return emitted
  }

  /**
   * Emits a `discover` with an arbitrary advertisement object, bypassing the GAP parser: for
   * bindings that build adverts differently (and for fuzzing the source with odd shapes).
   */
  discoverRaw(address: string, advertisement: unknown, rssi: number, extra: { uuid?: string; addressType?: string; connectable?: boolean } = {}): void {
    if (!this.scanning) {
      this.unheard++
      return
    }
    const uuid = extra.uuid ?? String(address).split(':').join('')
    this.emit('discover', uuid, address, extra.addressType ?? 'public', extra.connectable ?? false, advertisement, rssi, false)
  }

  /** Parses one report with noble's GAP (catching its exceptions like hci.js), then emits its discovers. */
  private report(type: number, address: string, addressType: string, eir: Buffer, rssi: number, extended: boolean): number {
    try {
      if (extended) {
        // Extended report type bits: 0x08 scan response; 0 = non-connectable, non-scannable, complete.
        const extType = type === SCAN_RSP ? 0x08 : type === ADV_IND ? 0x03 : 0x00
        this.hci.emit('leExtendedAdvertisingReport', 0, extType, address, addressType, 127, rssi, eir)
      } else {
        this.hci.emit('leAdvertisingReport', 0, type, address, addressType, eir, rssi)
      }
    } catch {
      // hci.js processLeAdvertisingReport catches parser exceptions the same way.
      this.parseErrors++
    }
    const out = this.pending.splice(0)
    for (const args of out) this.emit('discover', ...args)
    return out.length
  }
}

/** Real noble (lib/noble.js) over `binding`: `with-bindings` is 1.9.2-26's entry point that takes a binding object. */
export function simulatedNoble(binding: SimulatedBleBinding): NobleLike {
  return withBindings(binding)
}
