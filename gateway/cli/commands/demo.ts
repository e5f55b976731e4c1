/** `edge-gateway demo`: simulated sensors → real pipeline → embedded broker, for a first look. */
import { InvalidArgumentError, type Command } from 'commander'
import type { CliContext } from '../context.js'

/** Adds `demo [--data-dir DIR] [--devices N]`. Exit code: what `runDemo` returns. */
export function registerDemoCommand(program: Command, ctx: CliContext): void {
  program
    .command('demo')
    .description('run a self-contained demo: simulated sensors, durable store, embedded MQTT broker')
    .option('--data-dir <dir>', 'directory for the demo queue (default: data/demo)')
    .option('--devices <n>', 'number of simulated devices (default: 5)', positiveInt)
    .action(async (opts: { dataDir?: string; devices?: number }) => {
      // Imported lazily: `--help` and other commands must not load the broker and drivers.
      const { runDemo } = await import('../../runtime/demo.js')
      ctx.exitCode = await runDemo({ dataDir: opts.dataDir, devices: opts.devices })
    })
}

function positiveInt(value: string): number {
  const n = Number(value)
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number >= 1')
  return n
}
