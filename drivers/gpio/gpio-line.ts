/**
 * The hardware boundary of the GPIO driver: one input line, shaped like the part of onoff's `Gpio`
 * we use. Tests replace it with `FakeGpioLine` (firmware-sim/doorbell.ts) so the real source runs.
 *
 * onoff is imported lazily: it loads the native `epoll` addon, and a gateway without any `gpio`
 * source should never pay for (or fail on) that.
 */
import { GatewayError } from '../../gateway/core/errors.js'

/** A logical line level after `activeLow` was applied: 1 = active ("pressed"). */
export type LineValue = 0 | 1

/** Edge selection, applied by the kernel (sysfs `edge` file). */
export type LineEdge = 'rising' | 'falling' | 'both'

export interface GpioLineOptions {
  edge: LineEdge
  activeLow: boolean
}

/** Narrow onoff-shaped input line. */
export interface GpioLine {
  /**
   * Calls `cb` for every interrupt whose value matches the configured edge. `err` is set when the
   * kernel poller failed; the line keeps running. Values are logical (activeLow applied).
   */
  watch(cb: (err: Error | null | undefined, value: LineValue) => void): void
  /** Removes every watcher. Never throws. */
  unwatchAll(): void
  /** Current logical value. Rejects on an I/O error. */
  read(): Promise<LineValue>
  /** Releases the line (sysfs unexport). May throw on I/O error; callers ignore it at shutdown. */
  unexport(): void
}

/** Opens a sysfs line. Rejects with a `GW_ERR_HARDWARE_UNAVAILABLE` GatewayError when GPIO is absent. */
export type OpenGpioLine = (sysfsPin: number, opts: GpioLineOptions) => Promise<GpioLine>

const SYSFS_GPIO = '/sys/class/gpio'

/** A `GW_ERR_HARDWARE_UNAVAILABLE` error whose message is the operator-facing detail. */
export function gpioUnavailable(detail: string, cause?: unknown): GatewayError {
  return new GatewayError('GW_ERR_HARDWARE_UNAVAILABLE', detail, { cause })
}

/**
 * Turns whatever opening a line threw into the one-line health detail an operator needs.
 * Errno codes are the ones sysfs really produces (FIELD-NOTES "GPIO").
 */
export function describeGpioError(err: unknown, sysfsPin?: number): string {
  if (err instanceof GatewayError && err.code === 'GW_ERR_HARDWARE_UNAVAILABLE') return err.message
  const code = (err as { code?: unknown } | null)?.code
  const pin = sysfsPin === undefined ? 'the pin' : `sysfs pin ${sysfsPin}`
  switch (code) {
    case 'ENOENT':
      return `GPIO not accessible: ${SYSFS_GPIO} missing (no GPIO on this machine) (ENOENT)`
    case 'EACCES':
    case 'EPERM':
      return `GPIO not accessible: permission denied on ${SYSFS_GPIO} (${code}; add the user to the "gpio" group)`
    case 'EINVAL':
      return `GPIO not accessible: the kernel refused to export ${pin} (EINVAL; wrong chip base?)`
    case 'EBUSY':
      return `GPIO not accessible: ${pin} is claimed by another driver or process (EBUSY)`
    default: {
      const msg = err instanceof Error ? err.message : String(err)
      return `GPIO not accessible: ${msg}`
    }
  }
}

interface OnoffGpio {
  watch(cb: (err: Error | null | undefined, value: LineValue) => void): void
  unwatchAll(): void
  read(): Promise<LineValue>
  unexport(): void
}
interface OnoffGpioClass {
  accessible: boolean
  new (gpio: number, direction: 'in', edge: LineEdge, options: { activeLow: boolean }): OnoffGpio
}

/**
 * Opens `sysfsPin` as an input through onoff.
 *
 * We never pass onoff's `debounceTimeout`: it is a trailing lodash.debounce that delays every press
 * by the timeout, reports only the settled value (so a short tap on a `rising` line can vanish) and
 * cannot tell us how many bounces it swallowed. `debounce.ts` does it instead.
 *
 * Rejects with `GW_ERR_HARDWARE_UNAVAILABLE` when onoff cannot load (no epoll addon), when
 * `Gpio.accessible` is false (no sysfs GPIO, or no permission), or when the export fails
 * (ENOENT/EINVAL/EACCES/EBUSY); the message is a health detail from `describeGpioError`.
 */
export const openOnoffLine: OpenGpioLine = async (sysfsPin, opts) => {
  let Gpio: OnoffGpioClass
  try {
    const mod = (await import('onoff')) as unknown as { Gpio?: OnoffGpioClass; default?: { Gpio: OnoffGpioClass } }
    // onoff is CommonJS: Node exposes `Gpio` as a named export, older loaders only on `default`.
    Gpio = (mod.Gpio ?? mod.default?.Gpio) as OnoffGpioClass
  } catch (err) {
    throw gpioUnavailable(`GPIO not accessible: cannot load onoff (${(err as Error).message})`, err)
  }
  if (!Gpio.accessible) {
    // onoff probes by opening /sys/class/gpio/export for writing; it does not say why it failed.
    throw gpioUnavailable(
      `GPIO not accessible: ${SYSFS_GPIO}/export cannot be opened for writing (no sysfs GPIO on this machine, or no permission)`,
    )
  }
  let gpio: OnoffGpio
  try {
    gpio = new Gpio(sysfsPin, 'in', opts.edge, { activeLow: opts.activeLow })
  } catch (err) {
    throw gpioUnavailable(describeGpioError(err, sysfsPin), err)
  }
  return {
    watch: (cb) => gpio.watch(cb),
    unwatchAll: () => gpio.unwatchAll(),
    read: () => gpio.read(),
    unexport: () => gpio.unexport(),
  }
}
