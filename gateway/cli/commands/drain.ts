/**
 * `edge-gateway drain [--wait] [--timeout S]`: is the backlog forwarded? With `--wait`, polls the
 * daemon until every uplink's queue is empty (and ingest holds nothing in memory), showing a
 * progress bar on a terminal and a plain line every few seconds otherwise.
 *
 * It does not stop the sources: on a busy gateway "drained" is a moment, not a state. Use it
 * before maintenance once the sensors are quiet, or to see a backlog go out after an outage.
 */
import { InvalidArgumentError, type Command } from 'commander'
import type { StatusResponse } from '../../admin/routes/api-types.js'
import { EXIT_TEMPFAIL, addAdminOptions, clientFor, isTerminal, runOperatorAction, type AdminClient, type AdminTargetOptions } from '../admin-client.js'
import type { CliContext } from '../context.js'
import { fmtAge, fmtInt, fmtRate, plural } from '../format.js'

const POLL_MS = 500
const PLAIN_EVERY_MS = 5_000
const BAR_WIDTH = 24

type Opts = AdminTargetOptions & { wait?: boolean; timeout?: number }

/** Adds `drain`. Exit 0 drained, 75 not drained (timeout, or without --wait), else see admin-client.ts. */
export function registerDrainCommand(program: Command, ctx: CliContext): void {
  addAdminOptions(
    program
      .command('drain')
      .description("check that the daemon's backlog is forwarded; with --wait, wait until it is")
      .option('--wait', 'poll until every uplink queue is empty, with a progress display')
      .option('--timeout <seconds>', 'with --wait: give up after this many seconds (default: wait forever)', seconds),
  )
    .addHelpText('after', '\nExit codes: 0 drained, 75 not drained (timed out, or still queued without --wait), 69 no daemon answering.')
    .action((opts: Opts) => runOperatorAction(ctx, () => drain(clientFor(opts, ctx), opts, ctx)))
}

function seconds(value: string): number {
  const n = Number(value)
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a number of seconds > 0')
  return n
}

interface Backlog {
  remaining: number
  summary: string
}

function backlogOf(s: StatusResponse): Backlog {
  const remaining = s.uplinks.reduce((sum, u) => sum + u.queue.depth, 0) + s.pipeline.ingestPending
  const parts = s.uplinks.map((u) => `${u.id} ${fmtInt(u.queue.depth)}${u.connected ? '' : ` (disconnected${u.detail ? `: ${u.detail}` : ''})`}`)
  if (s.pipeline.ingestPending > 0) parts.push(`in memory ${fmtInt(s.pipeline.ingestPending)}`)
  return { remaining, summary: parts.join(', ') }
}

async function drain(client: AdminClient, opts: Opts, ctx: CliContext): Promise<number> {
  const started = Date.now()
  let status = await client.get<StatusResponse>('/api/status')
  let backlog = backlogOf(status)
  if (backlog.remaining === 0) {
    ctx.io.out('drained: every uplink queue is empty\n')
    return 0
  }
  if (!opts.wait) {
    ctx.io.out(`not drained: ${plural(backlog.remaining, 'event')} queued (${backlog.summary}); add --wait to wait for it\n`)
    return EXIT_TEMPFAIL
  }
  const progress = new Progress(ctx, isTerminal('stderr'))
  const deadline = opts.timeout !== undefined ? started + opts.timeout * 1000 : Infinity
  while (backlog.remaining > 0) {
    progress.show(backlog, status)
    if (Date.now() >= deadline) {
      progress.end()
      ctx.io.err(
        `edge-gateway: drain timed out after ${fmtAge(Date.now() - started)}: ${plural(backlog.remaining, 'event')} still queued (${backlog.summary})\n`,
      )
      return EXIT_TEMPFAIL
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(POLL_MS, deadline - Date.now()))))
    status = await client.get<StatusResponse>('/api/status')
    backlog = backlogOf(status)
  }
  progress.end()
  ctx.io.out(`drained: every uplink queue is empty (${plural(progress.peak, 'event')} were waiting; took ${fmtAge(Date.now() - started)})\n`)
  return 0
}

/** A bar on a terminal (redrawn in place on stderr), else a plain line now and then. */
class Progress {
  peak = 0
  private lastPlainMs = -Infinity
  private drawn = false
  private readonly history: Array<{ atMs: number; remaining: number }> = []

  constructor(
    private readonly ctx: CliContext,
    private readonly tty: boolean,
  ) {}

  show(b: Backlog, s: StatusResponse): void {
    const now = Date.now()
    this.peak = Math.max(this.peak, b.remaining)
    this.history.push({ atMs: now, remaining: b.remaining })
    while (this.history.length > 2 && now - this.history[0]!.atMs > 10_000) this.history.shift()
    const done = this.peak > 0 ? (this.peak - b.remaining) / this.peak : 1
    const tail = `${fmtInt(b.remaining)} left · out ${fmtRate(s.rates.outPerSec)} ev/s · ${this.eta()} · ${b.summary}`
    if (this.tty) {
      const filled = Math.round(done * BAR_WIDTH)
      const bar = `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${String(Math.floor(done * 100)).padStart(3)}%`
      this.ctx.io.err(`\r\x1b[2K${bar} ${tail}`)
      this.drawn = true
    } else if (now - this.lastPlainMs >= PLAIN_EVERY_MS) {
      this.ctx.io.err(`drain: ${Math.floor(done * 100)}% · ${tail}\n`)
      this.lastPlainMs = now
    }
  }

  end(): void {
    if (this.drawn) this.ctx.io.err('\n')
    this.drawn = false
  }

  /** From how fast the backlog shrank over the last ~10 s. */
  private eta(): string {
    const first = this.history[0]
    const last = this.history[this.history.length - 1]
    if (!first || !last || last.atMs - first.atMs < 1000) return 'ETA …'
    const perMs = (first.remaining - last.remaining) / (last.atMs - first.atMs)
    if (perMs <= 0) return 'ETA unknown (not shrinking)'
    return `ETA ${fmtAge(last.remaining / perMs)}`
  }
}
