/**
 * Keeps noble's per-address memory bounded (ARCHITECTURE 2.4). noble 1.9.2-26 never forgets a
 * device: lib/noble.js keeps a Peripheral plus service/characteristic/descriptor maps per id, the
 * hci-socket binding keeps address/type/connectable maps, and its GAP layer keeps the last
 * advert per address. A gateway near a street sees phones whose random addresses rotate every
 * ~15 minutes, so those maps grow for as long as the process runs.
 *
 * We never connect, so after a `discover` was handled nothing needs the Peripheral: its entries
 * are deleted right away. The GAP table is different: it merges a scan response into the advert
 * before it and holds back a connectable device's first report, so it is cleared only when it
 * outgrows `maxAddresses` (cost: at worst one merged advert per device lost, once).
 *
 * These are private fields of noble; every access is guarded, so a noble without them (the
 * simulator, another version) makes this a no-op rather than a crash.
 */

type Table = Record<string, unknown>

interface NobleInternals {
  _peripherals?: Table
  _services?: Table
  _characteristics?: Table
  _descriptors?: Table
  _discoveredPeripheralUUids?: Table
  _bindings?: {
    _addresses?: Table
    _addresseTypes?: Table
    _connectable?: Table
    scannable?: Table
    _gap?: { _discoveries?: Table }
  }
}

const isTable = (t: unknown): t is Table => typeof t === 'object' && t !== null

/** Checks the large tables every this many adverts (Object.keys is O(n)). */
const CHECK_EVERY = 1024

export class NobleCacheTrim {
  private sinceCheck = 0

  /** @param maxAddresses largest GAP / duplicate-filter table kept. @default 4096 */
  constructor(
    private readonly noble: unknown,
    private readonly maxAddresses = 4096,
  ) {}

  /** Call after handling the `discover` of peripheral `id`. Never throws. */
  forget(id: unknown): void {
    if (typeof id !== 'string') return
    const n = this.noble as NobleInternals | null
    if (!isTable(n)) return
    for (const t of [n._peripherals, n._services, n._characteristics, n._descriptors]) if (isTable(t)) delete t[id]
    const b = n._bindings
    if (isTable(b)) for (const t of [b._addresses, b._addresseTypes, b._connectable, b.scannable]) if (isTable(t)) delete t[id]
    if (++this.sinceCheck >= CHECK_EVERY) {
      this.sinceCheck = 0
      this.trimLarge(n)
    }
  }

  private trimLarge(n: NobleInternals): void {
    const gap = n._bindings?._gap
    if (isTable(gap) && isTable(gap._discoveries) && Object.keys(gap._discoveries).length > this.maxAddresses) {
      gap._discoveries = {}
    }
    // Only used to report each device once when duplicates are off; reset per startScanning anyway.
    if (isTable(n._discoveredPeripheralUUids) && Object.keys(n._discoveredPeripheralUUids).length > this.maxAddresses) {
      n._discoveredPeripheralUUids = {}
    }
  }
}
