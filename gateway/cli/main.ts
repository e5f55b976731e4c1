/**
 * CLI entry point. bin/edge-gateway.js calls `process.exit(await main(process.argv))`; everything
 * else returns instead of exiting, so the whole CLI can be driven in-process by tests.
 */
import { CommanderError } from 'commander'
import { ConfigError } from '../config/index.js'
import { processIo, type CliContext, type CliIo } from './context.js'
import { EXIT_CONFIG, EXIT_OK, EXIT_SOFTWARE, EXIT_USAGE } from './exit-codes.js'
import { buildProgram } from './program.js'
import { printConfigError } from './validate-config.js'

/**
 * Runs one CLI invocation.
 *
 * @param argv Like `process.argv`: node, script, then the arguments.
 * @param io Output streams and environment. @default the real process ones
 * @returns The exit code: 0 ok, 64 usage error, 78 invalid config, 70 internal error, or what
 *   the command returned (`run`: 1 when the gateway could not start). Never throws.
 */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const ctx: CliContext = { io, exitCode: EXIT_OK }
  try {
    await buildProgram(ctx).parseAsync([...argv], { from: 'node' })
    return ctx.exitCode
  } catch (err) {
    if (err instanceof CommanderError) return commanderExitCode(err)
    if (err instanceof ConfigError) {
      printConfigError(err, io)
      return EXIT_CONFIG
    }
    io.err(`edge-gateway: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
    return EXIT_SOFTWARE
  }
}

/** Commander already printed its message; only the exit code is left to decide. */
function commanderExitCode(err: CommanderError): number {
  switch (err.code) {
    case 'commander.helpDisplayed': // --help
    case 'commander.version': // --version
      return EXIT_OK
    default:
      // unknown command/option, missing argument, bare `edge-gateway` (help on stderr), ...
      return EXIT_USAGE
  }
}
