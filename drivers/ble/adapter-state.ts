/**
 * noble adapter states -> source health. `disconnected` means "will come back by itself" (the
 * adapter was powered off, unplugged, or is resetting; noble reports `poweredOn` again and the
 * source resumes scanning). `unavailable` means an operator must act (capabilities, hardware);
 * the source still listens, so fixing it without a restart (rfkill unblock) also recovers.
 */
import type { SourceHealth } from '../../gateway/core/types.js'
import { NOT_PERMITTED } from './noble-loader.js'

/**
 * Health for a non-`poweredOn` state; `poweredOn` is `running` once scanning started.
 * `adapter` is `hci1` when configured, else `adapter`.
 */
export function healthForAdapterState(state: string, adapter: string): SourceHealth {
  switch (state) {
    case 'poweredOff':
      return { state: 'disconnected', detail: `Bluetooth ${adapter} powered off or removed; scanning resumes when it is back` }
    case 'resetting':
      return { state: 'disconnected', detail: `Bluetooth ${adapter} resetting` }
    case 'unauthorized':
      return { state: 'unavailable', detail: NOT_PERMITTED }
    case 'unsupported':
      return { state: 'unavailable', detail: `Bluetooth ${adapter} does not support Bluetooth Low Energy` }
    default:
      return { state: 'starting', detail: `waiting for Bluetooth ${adapter} (state ${state})` }
  }
}
