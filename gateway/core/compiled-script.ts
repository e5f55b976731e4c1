/**
 * Path of a compiled script that runs in another thread or process (the Event Hubs uplink thread,
 * the LevelDB salvage child): those need JavaScript. Compiled, the script is the caller's sibling;
 * when the caller runs from its TypeScript sources (the test suite), it is the twin under dist/
 * (dist/gateway/... mirrors gateway/...), which the suite's global setup builds first.
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** `callerUrl`: the caller's `import.meta.url` (a module under gateway/); `script`: e.g. 'uplink-thread.js'. */
export function compiledScript(callerUrl: string, script: string): string {
  const callerFile = fileURLToPath(callerUrl)
  const sibling = path.join(path.dirname(callerFile), script)
  if (callerFile.endsWith('.js')) return sibling
  const marker = `${path.sep}gateway${path.sep}`
  const at = sibling.lastIndexOf(marker)
  if (at < 0) throw new Error(`compiledScript: ${callerFile} is not under gateway/`)
  return `${sibling.slice(0, at)}${path.sep}dist${sibling.slice(at)}`
}
