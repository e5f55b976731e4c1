/**
 * sd_notify(3) without native code: every message is handed to `systemd-notify(1)`.
 *
 * Why this mechanism. The protocol is one AF_UNIX SOCK_DGRAM datagram to $NOTIFY_SOCKET, and
 * Node has no unix datagram sockets in core (`dgram` is UDP only). The alternatives:
 * - `unix-dgram` (what Zigbee2MQTT's util/sd-notify.ts loads, as an optional dependency): a native
 *   addon, i.e. a compiler on the Pi or prebuilds per Node ABI and arm variant; it soft-fails when
 *   the build is missing, which would silently turn the watchdog off.
 * - a long-lived helper (python3, socat): one more runtime dependency, and its datagrams carry
 *   its PID anyway.
 * - `systemd-notify` ships with systemd itself, so it exists wherever $NOTIFY_SOCKET is set by
 *   systemd, handles every socket form (path, `@abstract`, vsock), and costs one short-lived
 *   process per message (a few per minute here).
 *
 * Sender identity. systemd attributes a datagram by the PID in its SCM_CREDENTIALS. Without
 * `--pid`, systemd-notify claims its parent (this process) as sender; the kernel allows that only
 * with CAP_SYS_ADMIN, so under the unprivileged service user it falls back to its own PID. The
 * unit therefore sets `NotifyAccess=all` (any process of the unit's cgroup may notify; only the
 * gateway and its systemd-notify children run there). `--pid=N` would only add `MAINPID=N`,
 * which is already right, so it is not passed. systemd-notify then waits (BARRIER=1, at most 5 s)
 * until PID 1 has processed the message, so PID 1 can still look up the short-lived sender's
 * cgroup: that is the race `--no-block` would reintroduce.
 *
 * Guarantees: messages are sent one at a time, in call order. Disabled (every call resolves
 * false, nothing is spawned) when $NOTIFY_SOCKET is unset, i.e. not started by systemd with
 * Type=notify. Failures never throw into the caller: they are logged (rate-limited) and the call
 * resolves false; a watchdog whose pings fail gets the process restarted, which is the point.
 */
import { execFile } from 'node:child_process'
import type { Logger } from '../core/observability.js'

/** Assignments of one notification, e.g. `{ READY: 1, STATUS: 'running' }`. */
export type NotifyFields = Record<string, string | number>

export interface SdNotifierOptions {
  /** Where NOTIFY_SOCKET (and PATH, to find systemd-notify) are read. @default process.env */
  env?: NodeJS.ProcessEnv
  log: Logger
  /** The systemd-notify executable (looked up in PATH). @default "systemd-notify" */
  command?: string
  /** Bound on one systemd-notify run (its own barrier wait is 5 s). @default 10000 */
  timeoutMs?: number
}

/** Failures are logged at most this often; the rest are counted into the next line. */
const FAILURE_LOG_INTERVAL_MS = 60_000

export class SdNotifier {
  /** True when $NOTIFY_SOCKET is set: a service manager listens for notifications. */
  readonly enabled: boolean
  private readonly env: NodeJS.ProcessEnv
  private readonly childEnv: NodeJS.ProcessEnv
  private readonly command: string
  private readonly timeoutMs: number
  private tail: Promise<unknown> = Promise.resolve()
  private queuedPing: Promise<boolean> | undefined
  private pingFields: NotifyFields = { WATCHDOG: 1 }
  private lastFailureLogMs = -Infinity
  private suppressedFailures = 0

  constructor(private readonly opts: SdNotifierOptions) {
    this.env = opts.env ?? process.env
    this.enabled = Boolean(this.env.NOTIFY_SOCKET)
    // Only what systemd-notify reads (and PATH to find it): the gateway's secrets stay out of it.
    this.childEnv = Object.fromEntries(
      ['PATH', 'NOTIFY_SOCKET', 'MANAGERPID', 'MANAGERPIDFDID'].filter((k) => this.env[k] !== undefined).map((k) => [k, this.env[k]]),
    )
    this.command = opts.command ?? 'systemd-notify'
    this.timeoutMs = opts.timeoutMs ?? 10_000
  }

  /**
   * Sends one datagram with `fields` after every earlier call's. Resolves true when systemd-notify
   * succeeded, false when disabled or on failure (logged). Never rejects.
   */
  notify(fields: NotifyFields): Promise<boolean> {
    if (!this.enabled) return Promise.resolve(false)
    const sent = this.tail.then(() => this.send(toArgs(fields)))
    this.tail = sent
    return sent
  }

  /** READY=1: start-up (or a reload) finished. */
  ready(status?: string): Promise<boolean> {
    return this.notify(status === undefined ? { READY: 1 } : { READY: 1, STATUS: status })
  }

  /**
   * RELOADING=1: the service is reloading its configuration; READY=1 ends it. With
   * MONOTONIC_USEC= (CLOCK_MONOTONIC, which `process.hrtime` reads on Linux), as sd_notify(3) asks.
   */
  reloading(status?: string): Promise<boolean> {
    const fields: NotifyFields = { RELOADING: 1, MONOTONIC_USEC: String(process.hrtime.bigint() / 1000n) }
    return this.notify(status === undefined ? fields : { ...fields, STATUS: status })
  }

  /** STOPPING=1: shutdown began. */
  stopping(status?: string): Promise<boolean> {
    return this.notify(status === undefined ? { STOPPING: 1 } : { STOPPING: 1, STATUS: status })
  }

  /** STATUS=…: free text shown by `systemctl status`. */
  status(text: string): Promise<boolean> {
    return this.notify({ STATUS: text })
  }

  /**
   * WATCHDOG=1 (plus optional fields, e.g. a STATUS). Coalesced: while a ping still waits behind
   * another message, a further ping only updates its fields and shares its promise.
   */
  watchdog(extra: NotifyFields = {}): Promise<boolean> {
    if (!this.enabled) return Promise.resolve(false)
    this.pingFields = { WATCHDOG: 1, ...extra }
    if (this.queuedPing) return this.queuedPing
    const ping = this.tail.then(() => {
      const fields = this.pingFields
      this.queuedPing = undefined
      return this.send(toArgs(fields))
    })
    this.queuedPing = ping
    this.tail = ping
    return ping
  }

  /** Resolves once every message sent so far has been handed over (or failed). */
  async flush(): Promise<void> {
    await this.tail
  }

  private send(args: string[]): Promise<boolean> {
    return new Promise((resolve) => {
      execFile(this.command, args, { env: this.childEnv, timeout: this.timeoutMs, killSignal: 'SIGKILL' }, (err, _stdout, stderr) => {
        if (!err) return resolve(true)
        this.logFailure(args, err, String(stderr).trim())
        resolve(false)
      })
    })
  }

  private logFailure(args: string[], err: Error, stderr: string): void {
    const now = Date.now()
    if (now - this.lastFailureLogMs < FAILURE_LOG_INTERVAL_MS) {
      this.suppressedFailures++
      return
    }
    this.lastFailureLogMs = now
    const keys = args.map((a) => a.slice(0, a.indexOf('=')))
    this.opts.log.error(
      { err, stderr, message: keys, command: this.command, suppressedSinceLastLog: this.suppressedFailures },
      'sd_notify failed: systemd did not get the notification (a missed WATCHDOG=1 gets the service restarted)',
    )
    this.suppressedFailures = 0
  }
}

/** `KEY=value` arguments; a newline in a value would end the assignment (newline-separated protocol). */
function toArgs(fields: NotifyFields): string[] {
  return Object.entries(fields).map(([k, v]) => `${k}=${String(v).replace(/[\r\n]+/g, ' ')}`)
}
