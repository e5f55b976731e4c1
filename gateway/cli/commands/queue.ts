/**
 * `edge-gateway queue peek|dead-letters|requeue|purge`: look into the daemon's durable queue and
 * handle dead letters, through the admin API.
 */
import { createInterface } from 'node:readline/promises'
import { InvalidArgumentError, type Command } from 'commander'
import type { DeadLettersResponse, EntryView, PeekResponse, PurgeResponse, RequeueResponse } from '../../admin/routes/api-types.js'
import { addAdminOptions, clientFor, isTerminal, runOperatorAction, type AdminTargetOptions } from '../admin-client.js'
import type { CliContext } from '../context.js'
import { EXIT_USAGE } from '../exit-codes.js'
import { fmtAge, fmtBytes, fmtInt, plural, table } from '../format.js'

type Opts = AdminTargetOptions & { uplink?: string; limit?: number; json?: boolean; yes?: boolean }

/** Adds `queue` and its subcommands. */
export function registerQueueCommand(program: Command, ctx: CliContext): void {
  const queue = program.command('queue').description("inspect the running daemon's queue and dead letters")

  addAdminOptions(
    queue
      .command('peek')
      .description('show the oldest queued (not yet confirmed) events; moves nothing')
      .option('--uplink <id>', 'only this uplink (default: every uplink)')
      .option('--limit <n>', 'events per uplink, 1-500 (default: 10)', limitArg)
      .option('--json', 'print the answer as JSON'),
  ).action((opts: Opts) =>
    runOperatorAction(ctx, async () => {
      const body = await clientFor(opts, ctx).get<PeekResponse>('/api/queue/peek', { uplink: opts.uplink, limit: opts.limit ?? 10 })
      ctx.io.out(opts.json ? json(body) : formatPeek(body))
    }),
  )

  addAdminOptions(
    queue
      .command('dead-letters')
      .description('show dead letters: events an uplink refused permanently (kept, never sent)')
      .option('--uplink <id>', 'only this uplink (default: every uplink)')
      .option('--limit <n>', 'dead letters per uplink, 1-500 (default: 50)', limitArg)
      .option('--json', 'print the answer as JSON'),
  ).action((opts: Opts) =>
    runOperatorAction(ctx, async () => {
      const body = await clientFor(opts, ctx).get<DeadLettersResponse>('/api/queue/dead-letters', { uplink: opts.uplink, limit: opts.limit ?? 50 })
      ctx.io.out(opts.json ? json(body) : formatDeadLetters(body))
    }),
  )

  addAdminOptions(
    queue
      .command('requeue')
      .description("put an uplink's dead letters back into the queue (sent again to every uplink, same CloudEvent ids)")
      .requiredOption('--uplink <id>', 'the uplink whose dead letters to requeue')
      .option('--json', 'print the answer as JSON'),
  ).action((opts: Opts) =>
    runOperatorAction(ctx, async () => {
      const body = await clientFor(opts, ctx).post<RequeueResponse>('/api/queue/requeue', { uplink: opts.uplink })
      ctx.io.out(opts.json ? json(body) : `requeued ${plural(body.requeued, 'dead letter')} of uplink ${body.uplink}\n`)
    }),
  )

  addAdminOptions(
    queue
      .command('purge')
      .description("delete an uplink's dead letters for good (asks first on a terminal)")
      .requiredOption('--uplink <id>', 'the uplink whose dead letters to delete')
      .option('-y, --yes', 'do not ask for confirmation (required when stdin is not a terminal)')
      .option('--json', 'print the answer as JSON'),
  ).action((opts: Opts) =>
    runOperatorAction(ctx, async () => {
      const client = clientFor(opts, ctx)
      if (!opts.yes) {
        if (!isTerminal('stdin')) {
          ctx.io.err('edge-gateway: refusing to purge dead letters without confirmation: stdin is not a terminal; add --yes\n')
          return EXIT_USAGE
        }
        // Look before asking, so the question names what will be lost (and a typo'd uplink fails here).
        const letters = await client.get<DeadLettersResponse>('/api/queue/dead-letters', { uplink: opts.uplink, limit: 500 })
        const n = letters.uplinks[0]?.deadLetters.length ?? 0
        if (n === 0) {
          ctx.io.out(`uplink ${opts.uplink} has no dead letters; nothing to purge\n`)
          return
        }
        const what = n >= 500 ? 'at least 500 dead letters' : plural(n, 'dead letter')
        if (!(await confirm(`Delete ${what} of uplink ${opts.uplink} for good? [y/N] `))) {
          ctx.io.err('edge-gateway: not purged\n')
          return 1
        }
      }
      const body = await client.post<PurgeResponse>('/api/queue/purge', { uplink: opts.uplink })
      ctx.io.out(opts.json ? json(body) : `purged ${plural(body.purged, 'dead letter')} of uplink ${body.uplink}\n`)
    }),
  )
}

function limitArg(value: string): number {
  const n = Number(value)
  if (!/^\d+$/.test(value) || n < 1 || n > 500) throw new InvalidArgumentError('must be a whole number from 1 to 500')
  return n
}

const json = (body: unknown): string => `${JSON.stringify(body, null, 2)}\n`

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr })
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim())
  } finally {
    rl.close()
  }
}

function entryRow(e: EntryView): string[] {
  return [String(e.offset), e.priority, fmtAge(e.ageMs), fmtBytes(e.sizeBytes), e.type ?? '?', e.source, e.id]
}

const ENTRY_HEADERS = ['OFFSET', 'PRIORITY', 'AGE', 'SIZE', 'TYPE', 'SOURCE', 'ID']

export function formatPeek(body: PeekResponse): string {
  return body.uplinks
    .map((u) => {
      const head = `uplink ${u.uplink}: ${plural(u.depth, 'event')} queued`
      if (u.entries.length === 0) return `${head}\n`
      const shown = u.entries.length < u.depth ? `, oldest ${fmtInt(u.entries.length)} shown` : ''
      return `${head}${shown}\n${table(ENTRY_HEADERS, u.entries.map(entryRow), { num: [0, 2, 3] })}`
    })
    .join('\n')
}

export function formatDeadLetters(body: DeadLettersResponse): string {
  const parts = body.uplinks.map((u) => {
    const head = `uplink ${u.uplink}: ${plural(u.deadLetters.length, 'dead letter')}${u.deadLetters.length > 0 ? ' (oldest first)' : ''}`
    if (u.deadLetters.length === 0) return `${head}\n`
    const rows = u.deadLetters.map((l) => [fmtAge(l.ageMs), l.reason, l.entry.type ?? '?', l.entry.source, l.entry.id, l.message])
    return `${head}\n${table(['AGE', 'REASON', 'TYPE', 'SOURCE', 'ID', 'MESSAGE'], rows, { num: [0] })}`
  })
  const total = body.uplinks.length > 1 && body.total > 0 ? `\n${plural(body.total, 'dead letter')} in the store over all uplinks\n` : ''
  return `${parts.join('\n')}${total}`
}
