/** `edge-gateway config check FILE`: validate a config file without running anything. */
import type { Command } from 'commander'
import type { GatewayConfig } from '../../config/index.js'
import type { CliContext } from '../context.js'
import { EXIT_CONFIG, EXIT_OK } from '../exit-codes.js'
import { validateConfigFile } from '../validate-config.js'

/** Adds `config check FILE`: exit 0 with `FILE: ok (N sources, M uplinks)` on stdout, else 78. */
export function registerConfigCommand(program: Command, ctx: CliContext): void {
  const config = program.command('config').description('work with config files')
  config
    .command('check')
    .description('validate a config file (syntax, schema, ${env:NAME} references); exit 0 if usable, 78 if not')
    .argument('<file>', 'config file (YAML)')
    .action((file: string) => {
      const parsed = validateConfigFile(file, ctx.io)
      if (!parsed) {
        ctx.exitCode = EXIT_CONFIG
        return
      }
      ctx.io.out(`${file}: ok (${summary(parsed)})\n`)
      ctx.exitCode = EXIT_OK
    })
}

function summary(c: GatewayConfig): string {
  const count = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`
  return `${count(c.sources.length, 'source')}, ${count(c.uplinks.length, 'uplink')}`
}
