/**
 * Drives noble for one `run` of a BleSource: follows the adapter state, keeps a scan running
 * while the adapter is `poweredOn`, and hands every `discover` to the source.
 *
 * State machine (noble `stateChange`, plus two things noble does not say on its own):
 *   poweredOn          -> startScanning; `running` once noble confirms (scanStart)
 *   poweredOff, resetting -> `disconnected`; the next poweredOn scans again
 *   unauthorized, unsupported -> `unavailable` (still listening: a fix without restart recovers)
 *   no state within stateTimeoutMs -> `unavailable` (binding init failed silently, or hung)
 *   noble `warning` "Initialization ... failed: <errno>" -> `unavailable` with the errno's meaning
 *   `scanStop` we did not ask for (BlueZ or another program stopped it) -> restart with backoff
 *
 * Scan mode: noble 1.9.2-26 always sets ACTIVE scanning (hci.js setScanParameters writes type
 * 0x01, no option), so scannable devices also get scan requests. We never connect.
 */
import { Backoff } from '../../gateway/core/backoff.js'
import type { Logger } from '../../gateway/core/observability.js'
import type { SourceHealth } from '../../gateway/core/types.js'
import { healthForAdapterState } from './adapter-state.js'
import { describeBleError } from './noble-loader.js'
import type { NobleLike, NobleListener, NoblePeripheral } from './noble-like.js'

export interface ScanSessionOptions {
  /** noble `allowDuplicates`. */
  duplicates: boolean
  hciDevice?: number
  /** @default 10000 */
  stateTimeoutMs?: number
  log: Logger
  onHealth: (health: SourceHealth) => void
  /** Called synchronously inside noble's emit; must not throw. */
  onDiscover: (peripheral: NoblePeripheral) => void
}

export class ScanSession {
  private readonly adapter: string
  private readonly backoff = new Backoff({ initialMs: 1000, maxMs: 30_000 })
  private adapterState = 'unknown'
  private scanning = false
  private stopped = false
  private stateTimer: NodeJS.Timeout | undefined
  private restartTimer: NodeJS.Timeout | undefined
  private readonly listeners: Array<[string, NobleListener]>

  constructor(
    private readonly noble: NobleLike,
    private readonly opts: ScanSessionOptions,
  ) {
    this.adapter = opts.hciDevice === undefined ? 'adapter' : `hci${opts.hciDevice}`
    this.listeners = [
      ['stateChange', (state: string) => this.onState(state)],
      ['discover', (p: NoblePeripheral) => this.opts.onDiscover(p)],
      ['scanStop', () => this.onScanStop()],
      ['warning', (message: string) => this.onWarning(message)],
    ]
  }

  /** Attaches the listeners (the first `stateChange` listener makes noble init its binding). */
  start(): void {
    for (const [event, fn] of this.listeners) this.noble.on(event, fn)
    this.stateTimer = setTimeout(() => this.onStateTimeout(), this.opts.stateTimeoutMs ?? 10_000)
    this.stateTimer.unref?.()
    // A noble that was initialised by an earlier run will not repeat its state: apply it now.
    const known = this.noble._state
    if (typeof known === 'string' && known !== 'unknown') queueMicrotask(() => this.onState(known))
  }

  /** Stops scanning and detaches. Never throws; safe to call twice. */
  stop(): void {
    if (this.stopped) return
    this.stopped = true
    clearTimeout(this.stateTimer)
    clearTimeout(this.restartTimer)
    for (const [event, fn] of this.listeners) this.noble.removeListener(event, fn)
    if (this.scanning) {
      this.scanning = false
      try {
        this.noble.stopScanning()
      } catch (err) {
        this.opts.log.debug({ err }, 'stopScanning failed (ignored at shutdown)')
      }
    }
  }

  private onState(state: string): void {
    if (this.stopped || state === this.adapterState) return
    clearTimeout(this.stateTimer)
    const previous = this.adapterState
    this.adapterState = state
    if (state === 'poweredOn') {
      this.opts.log.info({ previous }, `Bluetooth ${this.adapter} powered on, starting scan`)
      this.startScan()
      return
    }
    // The controller stops scanning with the power; scan again on the next poweredOn.
    this.scanning = false
    clearTimeout(this.restartTimer)
    const health = healthForAdapterState(state, this.adapter)
    this.opts.log.warn({ previous, state, code: 'GW_ERR_HARDWARE_UNAVAILABLE' }, health.detail ?? state)
    this.opts.onHealth(health)
  }

  private startScan(): void {
    this.opts.onHealth({ state: 'starting', detail: `starting scan on ${this.adapter}` })
    const attemptState = this.adapterState
    try {
      this.noble.startScanning([], this.opts.duplicates, (err) => this.onScanStarted(err ?? undefined, attemptState))
    } catch (err) {
      this.onScanStarted(err as Error, attemptState)
    }
  }

  private onScanStarted(err: Error | undefined, attemptState: string): void {
    if (this.stopped || this.adapterState !== attemptState) return
    if (err) {
      this.opts.log.warn({ err, code: 'GW_ERR_HARDWARE_UNAVAILABLE' }, 'BLE scan did not start; retrying')
      this.opts.onHealth({ state: 'disconnected', detail: `scan did not start on ${this.adapter}: ${err.message}` })
      this.scheduleRestart()
      return
    }
    this.scanning = true
    this.backoff.reset()
    this.opts.onHealth({ state: 'running', detail: `scanning on ${this.adapter}` })
  }

  private onScanStop(): void {
    // Expected after poweredOff; otherwise somebody else (bluetoothd, hcitool) stopped our scan.
    if (this.stopped || !this.scanning || this.adapterState !== 'poweredOn') return
    this.scanning = false
    this.opts.log.warn({ code: 'GW_ERR_HARDWARE_UNAVAILABLE' }, `BLE scan on ${this.adapter} stopped by another program; restarting`)
    this.opts.onHealth({ state: 'disconnected', detail: `scan on ${this.adapter} stopped by another program; restarting` })
    this.scheduleRestart()
  }

  private scheduleRestart(): void {
    clearTimeout(this.restartTimer)
    this.restartTimer = setTimeout(() => {
      if (!this.stopped && this.adapterState === 'poweredOn' && !this.scanning) this.startScan()
    }, this.backoff.next())
  }

  private onWarning(message: string): void {
    if (this.stopped) return
    // noble turns a throwing binding init (socket bind: ENODEV, EPERM...) into this warning.
    if (/initiali[sz]ation .*failed/i.test(String(message))) {
      clearTimeout(this.stateTimer)
      const detail = describeBleError(message, this.opts.hciDevice)
      this.opts.log.warn({ code: 'GW_ERR_HARDWARE_UNAVAILABLE', warning: String(message).slice(0, 200) }, detail)
      this.opts.onHealth({ state: 'unavailable', detail })
      return
    }
    this.opts.log.debug({ warning: String(message).slice(0, 200) }, 'noble warning')
  }

  private onStateTimeout(): void {
    if (this.stopped || this.adapterState !== 'unknown') return
    const seconds = (this.opts.stateTimeoutMs ?? 10_000) / 1000
    const detail = `Bluetooth ${this.adapter} did not report a state within ${seconds} s (binding hung, or the adapter is held by another program)`
    this.opts.log.warn({ code: 'GW_ERR_HARDWARE_UNAVAILABLE' }, detail)
    this.opts.onHealth({ state: 'unavailable', detail })
  }
}
