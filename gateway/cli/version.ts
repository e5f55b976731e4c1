/** The package version for `--version`, read from package.json at run time. */
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * Walks up from this module to the first package.json named `edge-gateway`: the same code runs
 * from `gateway/cli/` (tests) and `dist/gateway/cli/` (installed), two and three levels down.
 * Importing the JSON instead would copy package.json into dist/ and needs import attributes.
 */
export function packageVersion(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const file = path.join(dir, 'package.json')
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string }
      if (pkg.name === 'edge-gateway' && pkg.version) return pkg.version
    }
    const parent = path.dirname(dir)
    if (parent === dir) return '0.0.0-unknown'
    dir = parent
  }
}
