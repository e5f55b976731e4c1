/**
 * The systemd watchdog, driven by the pipeline's own heartbeat.
 *
 * A bare timer would keep pinging while the ingest committer or a forwarder is wedged (the event
 * loop is fine, the data path is not), and systemd would never restart the process. So each tick
 * asks the gateway how old its oldest loop heartbeat is, and pings only when that is younger than
 * the watchdog interval. A stale heartbeat withholds the ping (logged); if it stays stale,
 * systemd's WatchdogSec= expires and the service is restarted (SIGABRT, then Restart=).
 *
 * Timing: ticks every half interval, as sd_watchdog_enabled(3) recommends, so one late tick does
 * not trip the watchdog. A heartbeat stale for longer than the interval trips it within 1.5x.
 */
import type { Logger } from '../core/observability.js'
import type { NotifyFields } from './sd-notify.js'

/**
 * The watchdog interval systemd expects, like sd_watchdog_enabled(3): $WATCHDOG_USEC in
 * microseconds, ignored when $WATCHDOG_PID is set and is not this process (the variables were
 * inherited by a child). Undefined = no watchdog configured.
 */
export function watchdogIntervalMs(env: NodeJS.ProcessEnv = process.env, pid = process.pid): number | undefined {
  const usec = Number(env.WATCHDOG_USEC)
  if (!env.WATCHDOG_USEC || !Number.isFinite(usec) || usec <= 0) return undefined
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== pid) return undefined
  return Math.max(1, Math.floor(usec / 1000))
}

export interface WatchdogOptions {
  /** The WatchdogSec= interval, ms (see `watchdogIntervalMs`). Pings go out every half of it. */
  intervalMs: number
  /** Age of the oldest pipeline heartbeat, ms (`Gateway.heartbeatAgeMs()`). */
  heartbeatAgeMs: () => number
  /** Sends WATCHDOG=1 plus `fields` (`SdNotifier.watchdog`). Must not reject. */
  ping: (fields: NotifyFields) => Promise<boolean>
  /** Optional STATUS= text sent with each ping (`systemctl status` shows it). */
  status?: () => string
  log: Logger
}

export type WatchdogTick = 'pinged' | 'withheld'

export class Watchdog {
  private timer: NodeJS.Timeout | undefined
  private withholding = false
  private lastPing: Promise<boolean> = Promise.resolve(true)

  constructor(private readonly opts: WatchdogOptions) {}

  /** Pings at once (if fresh), then every `intervalMs / 2`. Idempotent. */
  start(): void {
    if (this.timer) return
    this.tick()
    this.timer = setInterval(() => this.tick(), Math.max(1, Math.floor(this.opts.intervalMs / 2)))
  }

  /** Stops pinging and waits for a ping still being sent. */
  async stop(): Promise<void> {
    clearInterval(this.timer)
    this.timer = undefined
    await this.lastPing
  }

  /** One check: ping when the heartbeat is fresh (below the interval), else withhold and log. */
  tick(): WatchdogTick {
    const { intervalMs, log } = this.opts
    const ageMs = this.opts.heartbeatAgeMs()
    if (!(ageMs < intervalMs)) {
      log.warn(
        { heartbeatAgeMs: ageMs, watchdogMs: intervalMs },
        'pipeline heartbeat is stale: withholding the systemd watchdog ping (systemd restarts the service if it stays stale)',
      )
      this.withholding = true
      return 'withheld'
    }
    if (this.withholding) {
      log.info({ heartbeatAgeMs: ageMs, watchdogMs: intervalMs }, 'pipeline heartbeat is fresh again: watchdog pings resumed')
      this.withholding = false
    }
    const status = this.opts.status?.()
    this.lastPing = this.opts.ping(status === undefined ? {} : { STATUS: status })
    return 'pinged'
  }
}
