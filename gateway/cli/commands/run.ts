/** `edge-gateway run --config FILE`: validate, then run the gateway until SIGTERM/SIGINT. */
import type { Command } from 'commander'
import type { CliContext } from '../context.js'
import { EXIT_CONFIG } from '../exit-codes.js'
import { validateConfigFile } from '../validate-config.js'

/** Adds `run --config FILE`. Exit code: 78 for an invalid config, else what `runGateway` returns. */
export function registerRunCommand(program: Command, ctx: CliContext): void {
  program
    .command('run')
    .description('run the gateway with a config file until SIGTERM or SIGINT')
    .requiredOption('-c, --config <file>', 'config file (YAML); validated before anything is opened')
    .addHelpText('after', '\nExit codes: 0 stopped cleanly, 1 could not start, 64 usage error, 78 invalid config.')
    .action(async (opts: { config: string }) => {
      // Validate before importing the runtime: an invalid file must not open the store, create
      // the data directory or connect anywhere.
      const config = validateConfigFile(opts.config, ctx.io)
      if (!config) {
        ctx.exitCode = EXIT_CONFIG
        return
      }
      const { runGateway } = await import('../../runtime/run.js')
      ctx.exitCode = await runGateway(config, { configPath: opts.config })
    })
}
