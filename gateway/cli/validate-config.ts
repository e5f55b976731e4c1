/** Shared by `run` and `config check`: load a config file or print every problem with it. */
import { ConfigError, formatIssue, loadConfig, type GatewayConfig } from '../config/index.js'
import type { CliIo } from './context.js'

/**
 * Loads and validates `file`. On failure prints a header and one `path: message` line per problem
 * to stderr and returns undefined. Reads the file and the environment only: nothing is created.
 * Errors other than ConfigError propagate (they are bugs, not config problems).
 */
export function validateConfigFile(file: string, io: CliIo): GatewayConfig | undefined {
  try {
    return loadConfig(file, io.env)
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    printConfigError(err, io)
    return undefined
  }
}

/** `FILE: N problems` then one `path: message` line each. */
export function printConfigError(err: ConfigError, io: CliIo): void {
  const n = err.issues.length
  const lines = [`${err.fileName}: ${n} problem${n === 1 ? '' : 's'}`, ...err.issues.map(formatIssue)]
  io.err(lines.join('\n') + '\n')
}
