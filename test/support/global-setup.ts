/**
 * Builds dist/ once before any test file runs: the CLI and crash tests run the real compiled
 * gateway in child processes, and building per file would race on the same output files.
 */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export default function setup(): void {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  const build = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, encoding: 'utf8' })
  // tsc still emits on type errors; CI's own `npm run build` step is what fails on them. Here only a
  // missing entry point is fatal, so one module's type error does not hide every other result.
  if (build.status !== 0) console.warn(`tsc -p tsconfig.build.json exited ${build.status}:\n${build.stdout}${build.stderr}`)
  if (!existsSync(path.join(root, 'dist/gateway/cli/main.js'))) throw new Error('build produced no dist/gateway/cli/main.js')
}
