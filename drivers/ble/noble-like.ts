/**
 * The part of noble (@abandonware/noble 1.9.2-26, lib/noble.js) the `ble` source uses. Typed
 * loosely on purpose: everything arriving through `discover` comes from the radio (or a binding
 * we do not control) and is checked field by field in noble-advert.ts before use.
 */

/** noble adapter states (`stateChange`). */
export type AdapterState = 'unknown' | 'resetting' | 'unsupported' | 'unauthorized' | 'poweredOff' | 'poweredOn'

/** `peripheral.advertisement` as the hci-socket GAP layer fills it; any field may be missing. */
export interface NobleAdvertisement {
  localName?: unknown
  txPowerLevel?: unknown
  manufacturerData?: unknown
  serviceData?: unknown
  serviceUuids?: unknown
}

/** A `discover` event's peripheral. */
export interface NoblePeripheral {
  /** noble's id: the address without colons on Linux. */
  id?: unknown
  uuid?: unknown
  address?: unknown
  addressType?: unknown
  connectable?: unknown
  advertisement?: NobleAdvertisement
  rssi?: unknown
}

/** noble's emitter passes different arguments per event; each listener narrows its own. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type NobleListener = (...args: any[]) => void

/** A noble instance (`require('@abandonware/noble/with-custom-binding')(options)` or `with-bindings`). */
export interface NobleLike {
  on(event: string, listener: NobleListener): unknown
  removeListener(event: string, listener: NobleListener): unknown
  /** With a callback noble reports "not poweredOn" through it instead of throwing. */
  startScanning(serviceUuids: string[], allowDuplicates: boolean, callback: (err?: Error | null) => void): void
  stopScanning(callback?: () => void): void
  /** Last state the binding reported; 'unknown' until its first `stateChange`. (Reading `state` instead would init the binding.) */
  _state?: string
}
