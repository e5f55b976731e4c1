/**
 * `edge-gateway run`: start the gateway from a validated config and run until SIGTERM/SIGINT.
 *
 * Under systemd (Type=notify, see systemd/edge-gateway.service):
 * - STATUS=starting, then READY=1 once `Gateway.start()` resolved (store open, uplinks and
 *   forwarders started, admin listening), with a STATUS= summary;
 * - WATCHDOG=1 every WatchdogSec/2 while the pipeline heartbeat is fresh (watchdog.ts);
 * - SIGHUP (`systemctl reload`): RELOADING=1, re-read and validate the config, swap the gateway
 *   (reload.ts), READY=1 again; an invalid file is refused and logged, nothing else happens;
 * - STOPPING=1 as the first thing of a stop.
 * Without $NOTIFY_SOCKET none of the notifications are sent; everything else is the same.
 */
import type { GatewayConfig } from '../config/index.js'
import { createLogger } from '../telemetry/logger.js'
import { GatewayMetrics } from '../telemetry/metrics.js'
import { GatewayHost, type ReloadOutcome } from './reload.js'
import { SdNotifier } from './sd-notify.js'
import { waitForStopSignal } from './signals.js'
import { Watchdog, watchdogIntervalMs } from './watchdog.js'

export interface RunGatewayOptions {
  /** The file `config` came from; re-read on SIGHUP. Without it SIGHUP is logged and ignored. */
  configPath?: string
  /** For `${env:NAME}` on reload, $NOTIFY_SOCKET and $WATCHDOG_USEC. @default process.env */
  env?: NodeJS.ProcessEnv
}

/**
 * Runs until SIGTERM/SIGINT. Exit codes: 0 clean stop; 1 could not start (e.g. store unusable),
 * or a reload left no config running; 75 the store asked for a restart to repair itself. Config errors (78) are handled before this.
 */
export async function runGateway(config: GatewayConfig, opts: RunGatewayOptions = {}): Promise<number> {
  const env = opts.env ?? process.env
  const log = createLogger({ level: config.log.level, pretty: config.log.pretty })
  const notifier = new SdNotifier({ env, log: log.child({ component: 'sd-notify' }) })
  const host = new GatewayHost({ log, metrics: new GatewayMetrics() })
  const stopSignal = waitForStopSignal()
  // Registered before start: Node's default for SIGHUP is to exit.
  const hangups = new SignalLatch('SIGHUP')
  try {
    void notifier.status('starting')
    try {
      await host.start(config)
    } catch (err) {
      log.fatal({ err, configPath: opts.configPath }, 'gateway could not start')
      await notifier.status(`could not start: ${err instanceof Error ? err.message : String(err)}`)
      return 1
    }
    // Notifications are queued in order and never reject; nothing waits for systemd to read them.
    void notifier.ready(host.statusText())
    const watchdog = createWatchdog(env, host, notifier, log)
    watchdog?.start()
    const code = await serve(host, { stopSignal, hangups, notifier, log, configPath: opts.configPath, env })
    const watchdogStopped = watchdog?.stop() // no tick after this line, so STOPPING=1 is the last word
    void notifier.stopping('stopping')
    await host.stop()
    await watchdogStopped
    return code
  } finally {
    hangups.dispose()
    await notifier.flush()
  }
}

interface ServeContext {
  stopSignal: Promise<NodeJS.Signals>
  hangups: SignalLatch
  notifier: SdNotifier
  log: ReturnType<typeof createLogger>
  configPath: string | undefined
  env: NodeJS.ProcessEnv
}

/** Handles SIGHUPs one at a time until a stop signal; returns the exit code. */
async function serve(host: GatewayHost, ctx: ServeContext): Promise<number> {
  const { log, notifier } = ctx
  const stop = ctx.stopSignal.then((signal) => ({ signal }))
  for (;;) {
    const restart = (host.gateway?.restartNeeded() ?? new Promise<string>(() => {})).then((reason) => ({ signal: undefined, restart: reason }))
    const event: { signal: NodeJS.Signals | undefined; restart?: string } = await Promise.race([
      stop,
      ctx.hangups.next().then(() => ({ signal: undefined })),
      restart,
    ])
    if (event.restart) {
      // EX_TEMPFAIL: systemd (Restart=on-failure) starts the process again, which repairs the store.
      log.error({ reason: event.restart }, 'stopping so that the gateway restarts')
      return 75
    }
    if (event.signal) {
      log.info({ signal: event.signal }, 'stop requested')
      return 0
    }
    if (!ctx.configPath) {
      log.warn('SIGHUP ignored: the gateway was not started from a config file')
      continue
    }
    let outcome: ReloadOutcome
    try {
      void notifier.reloading('reloading configuration')
      outcome = await host.reload(ctx.configPath, ctx.env)
    } catch (err) {
      log.error({ err }, 'config reload failed and the previous config could not be restarted either; exiting')
      void notifier.status('reload failed: no config running')
      return 1
    }
    void notifier.ready(reloadStatus(outcome, host))
  }
}

function reloadStatus(outcome: ReloadOutcome, host: GatewayHost): string {
  switch (outcome.result) {
    case 'refused':
      return `config reload refused (${outcome.problems.length} problems, see the log); ${host.statusText()}`
    case 'rolled_back':
      return `config reload failed and was rolled back (see the log); ${host.statusText()}`
    default:
      return host.statusText()
  }
}

function createWatchdog(env: NodeJS.ProcessEnv, host: GatewayHost, notifier: SdNotifier, log: ServeContext['log']): Watchdog | undefined {
  const intervalMs = watchdogIntervalMs(env)
  if (intervalMs === undefined || !notifier.enabled) return undefined
  log.info({ watchdogMs: intervalMs }, 'systemd watchdog enabled: pinging while the pipeline heartbeat is fresh')
  return new Watchdog({
    intervalMs,
    heartbeatAgeMs: () => host.heartbeatAgeMs(),
    ping: (fields) => notifier.watchdog(fields),
    status: () => host.statusText(),
    log: log.child({ component: 'watchdog' }),
  })
}

/**
 * Remembers that a signal arrived until someone asks: several signals before `next()` count as
 * one (a reload re-reads the file anyway), and one arriving during a reload is not lost.
 */
class SignalLatch {
  private pending = false
  private waiter: { promise: Promise<void>; resolve: () => void } | undefined
  private readonly handler = (): void => {
    if (this.waiter) {
      this.waiter.resolve()
      this.waiter = undefined
    } else {
      this.pending = true
    }
  }

  constructor(private readonly signal: NodeJS.Signals) {
    process.on(signal, this.handler)
  }

  /** Resolves at the next signal (at once if one arrived since the last call). Repeated calls while waiting share one promise. */
  next(): Promise<void> {
    if (this.pending) {
      this.pending = false
      return Promise.resolve()
    }
    if (!this.waiter) {
      let resolve!: () => void
      const promise = new Promise<void>((r) => (resolve = r))
      this.waiter = { promise, resolve }
    }
    return this.waiter.promise
  }

  dispose(): void {
    process.off(this.signal, this.handler)
  }
}
