/**
 * `edge-gateway store-layout <1|2> --config FILE [--root DIR]`: moves the queue's counter and meta
 * keys to a key layout (gateway/store/key-layout.ts), offline. deploy/upgrade.sh runs it with 1
 * when it rolls back, so that a release from before layout 2 finds its sequence counters.
 *
 * - The gateway must not be running (LevelDB's lock): exit 75 if the queue is in use.
 * - Reads only `gateway.dataDir` from the config (no `${env:...}` substitution: the secrets of the
 *   service's environment are not needed, nor present, in an upgrade script).
 * - Files LevelDB creates get the owner of the queue directory: run as root on a queue the
 *   service user owns, it must not leave the service unable to open its own store.
 * - A directory without a LevelDB store in it (or none at all) has nothing to move: exit 0.
 */
import { chownSync, existsSync, readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { InvalidArgumentError, type Command } from 'commander'
import { Level } from 'level'
import { ConfigError, DEFAULT_DATA_DIR, readConfigSection } from '../../config/index.js'
import { setKeyLayout, type KeyLayout } from '../../store/key-layout.js'
import { isLockedError } from '../../store/store-util.js'
import { EXIT_TEMPFAIL } from '../admin-client.js'
import type { CliContext } from '../context.js'
import { EXIT_OK, EXIT_SOFTWARE } from '../exit-codes.js'

interface Opts {
  config: string
  root?: string
}

export function registerStoreLayoutCommand(program: Command, ctx: CliContext): void {
  program
    .command('store-layout')
    .description("move the queue's counter and meta keys to a store key layout (offline; for rollbacks to releases before layout 2)")
    .argument('<layout>', '1 (releases before layout 2) or 2 (this release; the gateway also moves to it at start)', layoutArg)
    .requiredOption('--config <file>', 'config file; only gateway.dataDir is read')
    .option('--root <dir>', 'prefix for gateway.dataDir (an installation in a staging root)')
    .addHelpText('after', '\nExit codes: 0 done (or nothing to move), 75 the queue is in use (stop the gateway first), 78 config unreadable, 70 other errors.')
    .action(async (layout: KeyLayout, opts: Opts) => {
      ctx.exitCode = await storeLayout(layout, opts, ctx)
    })
}

function layoutArg(value: string): KeyLayout {
  if (value !== '1' && value !== '2') throw new InvalidArgumentError('must be 1 or 2')
  return Number(value) as KeyLayout
}

/** `gateway.dataDir` of the config file as written. @throws ConfigError (exit 78, printed by `main`). */
function dataDirOf(file: string): string {
  const { raw } = readConfigSection(file, 'gateway')
  const dataDir = (raw as { dataDir?: unknown } | null | undefined)?.dataDir ?? DEFAULT_DATA_DIR
  if (typeof dataDir !== 'string' || dataDir.includes('${')) {
    throw new ConfigError(file, [{ path: 'gateway.dataDir', message: 'must be a plain path for store-layout (no ${env:...}: the service environment is not read)' }])
  }
  return dataDir
}

async function storeLayout(layout: KeyLayout, opts: Opts, ctx: CliContext): Promise<number> {
  const dataDir = dataDirOf(opts.config)
  // As the gateway does: a relative dataDir is taken from the current directory (the unit's is the state directory).
  const dir = opts.root !== undefined ? path.join(opts.root, dataDir, 'queue') : path.resolve(dataDir, 'queue')
  if (!existsSync(path.join(dir, 'CURRENT'))) {
    ctx.io.out(`no store in ${dir}: nothing to move\n`)
    return EXIT_OK
  }
  const db = new Level<string, Buffer>(dir, { keyEncoding: 'utf8', valueEncoding: 'buffer' })
  try {
    await db.open({ createIfMissing: false })
  } catch (err) {
    const locked = isLockedError(err)
    ctx.io.err(locked ? `store-layout: ${dir} is in use: stop the gateway first\n` : `store-layout: cannot open ${dir}: ${String((err as Error).message)}\n`)
    keepOwner(dir)
    return locked ? EXIT_TEMPFAIL : EXIT_SOFTWARE
  }
  try {
    const moved = await setKeyLayout(db, layout)
    ctx.io.out(moved > 0 ? `moved ${moved} keys of ${dir} to layout ${layout}\n` : `${dir} is in layout ${layout}: nothing to move\n`)
    return EXIT_OK
  } finally {
    await db.close()
    keepOwner(dir)
  }
}

/** Gives every file in `dir` the directory's owner (LevelDB created some as whoever runs this). */
function keepOwner(dir: string): void {
  const { uid, gid } = statSync(dir)
  for (const name of readdirSync(dir)) {
    const file = path.join(dir, name)
    const st = statSync(file)
    if (st.uid !== uid || st.gid !== gid) chownSync(file, uid, gid)
  }
}
