/**
 * Faults for the store's LevelDB child process (gateway/store/leveldb-child.ts), injected from
 * outside so that the product carries no test hooks.
 *
 * A test gives the child (and anything else it spawns with that environment) the variables of
 * `storeChildFaultEnv()`: NODE_OPTIONS preloads this file's compiled copy with `--import`, and
 * the preload patches `level` in that process before the child's own code runs. The preload acts
 * only in a process whose entry script is leveldb-child.js: a stand-in gateway spawned with the
 * same environment keeps its LevelDB untouched.
 *
 * Faults
 * - abortRepair: a `repair` child dies by SIGABRT before repairing, the way LevelDB's assertion in
 *   TableBuilder::Add kills it on some damaged tables.
 * - stallFile: a `copy` child commits its first batch (and prints its progress line), then writes
 *   its pid to the file and never commits another: a copy cut short at a known point, still running.
 */
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Level } from 'level'

const ABORT_REPAIR = 'EG_TEST_STORE_CHILD_ABORT_REPAIR'
const STALL_FILE = 'EG_TEST_STORE_CHILD_STALL_FILE'

export interface StoreChildFaults {
  abortRepair?: boolean
  stallFile?: string
}

/** The compiled preload (the suite's global setup builds dist/); from test/support or dist/test/support alike. */
function compiledPreload(): string {
  const here = path.dirname(fileURLToPath(import.meta.url))
  return path.resolve(here, '../../dist/test/support/store-child-faults.js')
}

/** Environment variables that make store children spawned with them fail as `faults` says. */
export function storeChildFaultEnv(faults: StoreChildFaults): Record<string, string> {
  const env: Record<string, string> = {
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${pathToFileURL(compiledPreload()).href}`.trim(),
  }
  if (faults.abortRepair) env[ABORT_REPAIR] = '1'
  if (faults.stallFile) env[STALL_FILE] = faults.stallFile
  return env
}

function isStoreChild(): boolean {
  return path.basename(process.argv[1] ?? '') === 'leveldb-child.js'
}

type Patchable = { repair: (dir: string) => Promise<void>; prototype: { batch: (...args: unknown[]) => unknown } }

function install(): void {
  const level = Level as unknown as Patchable
  if (process.env[ABORT_REPAIR]) {
    level.repair = () => process.abort()
  }
  const stallFile = process.env[STALL_FILE]
  if (stallFile) {
    const batch = level.prototype.batch
    let batches = 0
    level.prototype.batch = function (this: unknown, ...args: unknown[]) {
      if (++batches === 1) return batch.apply(this, args)
      writeFileSync(stallFile, String(process.pid))
      setInterval(() => undefined, 60_000) // keeps the stalled child alive until it is killed
      return new Promise(() => undefined)
    }
  }
}

if (isStoreChild()) install()
