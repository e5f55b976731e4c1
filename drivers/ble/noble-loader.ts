/**
 * Loads noble only when a `ble` source runs, and turns its failures into operator-readable
 * details. FIELD-NOTES "BLE": `require('@abandonware/noble')` THROWS synchronously (EAFNOSUPPORT)
 * on a kernel without Bluetooth, because building the default binding opens an HCI socket. A
 * static import would take the whole gateway down on such a machine; here the throw becomes a
 * rejected promise that BleSource reports as `unavailable`.
 */
import { createRequire } from 'node:module'
import type { NobleLike } from './noble-like.js'

/** Options for {@link loadNoble}; they map onto noble's `with-custom-binding` options. */
export interface NobleLoadOptions {
  /** HCI adapter index. @default undefined (noble: NOBLE_HCI_DEVICE_ID, else the first adapter) */
  hciDevice?: number
  /** Bluetooth 5 extended scanning. @default false */
  extended?: boolean
}

/** What BleSource calls to get a noble; tests inject one built on the simulator binding. */
export type LoadNoble = () => Promise<NobleLike>

const require = createRequire(import.meta.url)

/**
 * Builds noble over the OS binding (hci-socket on Linux). Rejects (never throws synchronously)
 * when the library cannot load or the kernel has no Bluetooth socket; {@link describeBleError}
 * explains the error. An absent or powered-off adapter does not reject: noble reports it later as
 * a state or a `warning`.
 */
export async function loadNoble(opts: NobleLoadOptions = {}): Promise<NobleLike> {
  // In 1.9.2-26 `with-custom-binding(options)` resolves the OS binding with these options
  // (`with-bindings(binding)` is the entry point that takes a binding object).
  const create = require('@abandonware/noble/with-custom-binding') as (options: object) => NobleLike
  const noble = create({ deviceId: opts.hciDevice, extended: opts.extended ?? false })
  keepSigintForTheGateway(noble)
  return noble
}

interface HciBindingInternals {
  init?: (...args: unknown[]) => unknown
  onSigIntBinded?: (...args: unknown[]) => void
}

/**
 * noble's hci-socket binding adds a SIGINT listener in `init()` that calls `process.exit(1)` when
 * it is the last SIGINT listener, which it is, since sources start after the gateway installed its
 * own handler. Ctrl-C would then skip the graceful drain. Removes that listener right after
 * `init()`; the gateway's handler stops scanning through BleSource instead. No-op for bindings
 * without it (simulator, other platforms).
 */
export function keepSigintForTheGateway(noble: unknown): void {
  const bindings = (noble as { _bindings?: HciBindingInternals } | null)?._bindings
  const init = bindings?.init
  if (!bindings || typeof init !== 'function') return
  bindings.init = function patchedInit(this: HciBindingInternals, ...args: unknown[]): unknown {
    try {
      return init.apply(this, args)
    } finally {
      if (typeof this.onSigIntBinded === 'function') process.removeListener('SIGINT', this.onSigIntBinded)
    }
  }
}

/** Detail for a hardware problem the operator must fix (group, capability, kernel, adapter). */
export const NOT_PERMITTED = 'not permitted: grant cap_net_raw,cap_net_admin (see FIELD-NOTES)'

/**
 * A short, stable health detail for a noble load/init failure: `err` may be an Error (with
 * `code`) or the text of a noble `warning` ("Initialization of USB device failed: ENODEV, ...").
 */
export function describeBleError(err: unknown, hciDevice?: number): string {
  const code = errorCode(err)
  const adapter = hciDevice === undefined ? '' : ` hci${hciDevice}`
  switch (code) {
    case 'EAFNOSUPPORT':
      return 'no Bluetooth adapter (EAFNOSUPPORT)'
    case 'ENODEV':
      return `no Bluetooth adapter${adapter} (ENODEV)`
    case 'EPERM':
    case 'EACCES':
      return NOT_PERMITTED
    case 'EBUSY':
      return `Bluetooth adapter${adapter} busy (EBUSY): another program holds it exclusively`
    case 'MODULE_NOT_FOUND':
    case 'ERR_DLOPEN_FAILED':
      return `Bluetooth library not usable (${code}): reinstall @abandonware/noble for this platform`
    default:
      return `Bluetooth unavailable: ${messageOf(err).slice(0, 200)}`
  }
}

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code
  if (typeof code === 'string') return code
  // bluetooth-hci-socket messages start with the errno name: "EAFNOSUPPORT, Address family ...".
  return /\b(E[A-Z]{2,}|MODULE_NOT_FOUND|ERR_DLOPEN_FAILED)\b/.exec(messageOf(err))?.[1]
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
