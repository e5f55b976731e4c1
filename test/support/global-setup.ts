/**
 * Builds dist/ once before any test file runs: the CLI and crash tests run the real compiled
 * gateway in child processes, and building per file would race on the same output files.
 */
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export default function setup(): void {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  const build = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, encoding: 'utf8' })
  if (build.status !== 0) throw new Error(`build failed (tsc -p tsconfig.build.json):\n${build.stdout}${build.stderr}`)
}
