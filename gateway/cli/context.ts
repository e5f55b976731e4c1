/** What every CLI command gets: where to write, which environment to read, where to put its exit code. */

export interface CliIo {
  /** Writes to standard output, exactly as given (add your own newline). */
  out(text: string): void
  /** Writes to standard error, exactly as given. */
  err(text: string): void
  /** Resolves `${env:NAME}` in config files. */
  env: NodeJS.ProcessEnv
}

export interface CliContext {
  io: CliIo
  /** The command's result; `main` returns it. Actions set it instead of calling process.exit. */
  exitCode: number
}

/** The real process streams and environment. */
export function processIo(): CliIo {
  return {
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
    env: process.env,
  }
}
