/** The commander program: global settings, then one `register…` per command file. */
import { Command } from 'commander'
import type { CliContext } from './context.js'
import { registerConfigCommand } from './commands/config.js'
import { registerDecodeCommand } from './commands/decode.js'
import { registerDemoCommand } from './commands/demo.js'
import { registerDrainCommand } from './commands/drain.js'
import { registerQueueCommand } from './commands/queue.js'
import { registerRunCommand } from './commands/run.js'
import { registerSimulateCommand } from './commands/simulate.js'
import { registerStatusCommand } from './commands/status.js'
import { registerStoreLayoutCommand } from './commands/store-layout.js'
import { packageVersion } from './version.js'

/**
 * A fresh program per call (no module-level state, so tests can run `main` many times).
 * Settings are applied BEFORE commands are added: `.command()` copies them into each subcommand.
 */
export function buildProgram(ctx: CliContext): Command {
  const program = new Command('edge-gateway')
    .description('Durable store-and-forward telemetry gateway: sensors in, CloudEvents out.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .exitOverride() // throw CommanderError instead of process.exit; main maps it to an exit code
    .configureOutput({ writeOut: ctx.io.out, writeErr: ctx.io.err })
    .showHelpAfterError('(add --help for usage)')
    .allowExcessArguments(false)

  registerRunCommand(program, ctx)
  registerConfigCommand(program, ctx)
  registerDemoCommand(program, ctx)
  registerStatusCommand(program, ctx)
  registerQueueCommand(program, ctx)
  registerDrainCommand(program, ctx)
  registerDecodeCommand(program, ctx)
  registerSimulateCommand(program, ctx)
  registerStoreLayoutCommand(program, ctx)
  // Later: simulate, decode — one file in commands/ and one line here each.
  return program
}
