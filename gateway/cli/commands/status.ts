/** `edge-gateway status [--json]`: what the running daemon is doing, from GET /api/status. */
import type { Command } from 'commander'
import type { StatusResponse } from '../../admin/routes/api-types.js'
import { addAdminOptions, clientFor, runOperatorAction, type AdminTargetOptions } from '../admin-client.js'
import type { CliContext } from '../context.js'
import { fmtAge, fmtBytes, fmtInt, fmtRate, plural, table } from '../format.js'

/** Adds `status`. Exit 0 when the daemon answered (whatever its health), else see admin-client.ts. */
export function registerStatusCommand(program: Command, ctx: CliContext): void {
  addAdminOptions(
    program
      .command('status')
      .description('show the running daemon: sources, uplinks, queues, rates and drops')
      .option('--json', 'print the status document as JSON (for scripts)'),
  )
    .addHelpText('after', '\nExit codes: 0 answered (see "health" for the verdict), 69 no daemon answering, 77 refused, 78 bad --config.')
    .action((opts: AdminTargetOptions & { json?: boolean }) =>
      runOperatorAction(ctx, async () => {
        const client = clientFor(opts, ctx)
        const status = await client.get<StatusResponse>('/api/status')
        ctx.io.out(opts.json ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status, client.target.base))
      }),
    )
}

/** The human report; pure so it can be unit-tested. */
export function formatStatus(s: StatusResponse, base: string): string {
  const out: string[] = []
  out.push(`edge-gateway ${s.gateway.id}: ${s.health.status}   v${s.gateway.version}, up ${fmtAge(s.gateway.uptimeMs)}   (${base})`)
  for (const r of s.health.reasons) out.push(`  ! ${r}`)
  for (const w of s.health.warnings) out.push(`  - ${w}`)
  out.push('')

  out.push('SOURCES')
  out.push(
    s.sources.length === 0
      ? '  (none configured)\n'
      : table(['SOURCE', 'TYPE', 'STATE', 'DETAIL'], s.sources.map((src) => [src.id, src.type, src.state, src.detail ?? ''])),
  )
  out.push('UPLINKS')
  out.push(
    table(
      ['UPLINK', 'STATE', 'QUEUED', 'BYTES', 'OLDEST', 'DETAIL'],
      s.uplinks.map((u) => [
        u.id,
        u.connected ? 'connected' : `disconnected ${fmtAge(u.disconnectedForMs)}`,
        fmtInt(u.queue.depth),
        fmtBytes(u.queue.bytes),
        u.queue.depth > 0 ? fmtAge(u.queue.oldestAgeMs) : '-',
        u.detail ?? '',
      ]),
      { num: [2, 3, 4] },
    ),
  )
  const window = s.rates.windowMs > 0 ? ` (last ${Math.round(s.rates.windowMs / 1000)} s)` : ''
  out.push(`RATES    in ${fmtRate(s.rates.inPerSec)} ev/s, out ${fmtRate(s.rates.outPerSec)} ev/s${window}`)
  out.push(
    `TOTALS   ${fmtInt(s.totals.ingested)} stored, ${fmtInt(s.totals.forwarded)} confirmed, ` +
      `${fmtInt(s.totals.rejected)} rejected at the edge, ${plural(s.totals.sendRetries, 'send retry', 'send retries')}`,
  )
  const drops = Object.entries(s.drops).filter(([, n]) => n > 0).sort(([a], [b]) => a.localeCompare(b))
  out.push(`DROPS    ${drops.length === 0 ? 'none' : drops.map(([reason, n]) => `${reason} ${fmtInt(n)}`).join(', ')}`)
  out.push(
    `STORE    ${plural(s.store.entries, 'entry', 'entries')}, ${fmtBytes(s.store.bytes)} of ${fmtBytes(s.store.maxBytes)}` +
      `${s.store.oldestAgeMs > 0 ? `, oldest ${fmtAge(s.store.oldestAgeMs)}` : ''}; ${plural(s.store.deadLetters, 'dead letter')}` +
      `${s.pipeline.ingestPending > 0 ? `; ${fmtInt(s.pipeline.ingestPending)} readings in memory` : ''}` +
      `${s.store.blockedAppends > 0 ? `; ${plural(s.store.blockedAppends, 'append')} waiting for room` : ''}` +
      `${s.store.leftoverClearEntries > 0 ? `; ${fmtInt(s.store.leftoverClearEntries)} acked entries not yet deleted (deletes failing)` : ''}`,
  )
  out.push(`DEVICES  ${fmtInt(s.devices.tracked)} seen${s.devices.evicted > 0 ? ` (${fmtInt(s.devices.evicted)} forgotten, max ${fmtInt(s.devices.max)})` : ''}`)
  return `${out.join('\n')}\n`
}
