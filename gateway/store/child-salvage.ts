/**
 * The parent side of leveldb-child.ts: LevelDB repair and key-by-key salvage, each in a child
 * process, so an abort() inside LevelDB (a damaged table) fails one attempt instead of killing
 * the gateway, again at every restart (a crash loop under systemd).
 *
 * Invariants
 * - The live store directory is never handed to LevelDB's repair. The child repairs a snapshot
 *   (`<dir>.repairing`, hard links: no extra disk; LevelDB never rewrites a file in place, it
 *   writes new files and renames), which replaces `<dir>` only after the child exited 0. A repair
 *   that aborts half-way can therefore not leave a MANIFEST that no longer lists the tables made
 *   from the log (which the next open would delete).
 * - The swap is crash-safe: `<dir>.repairing` (incomplete: deleted) -> `<dir>.repaired` (complete)
 *   -> `<dir>` moved to `<dir>.pre-repair` -> `<dir>.repaired` renamed to `<dir>` -> pre-repair
 *   deleted. `finishInterruptedRepair` completes or discards whatever a crash left.
 * - A salvage copy reads from a snapshot of the moved-aside directory, so the copy kept for the
 *   operator stays exactly as it was found. It writes into a directory that becomes the store
 *   only once the copy is done (salvage-copy.ts).
 * - A child dies with the gateway (it watches its IPC channel): after a kill -9 no orphan keeps
 *   writing into a directory the restarted gateway clears, renames or copies again.
 */
import { spawn } from 'node:child_process'
import { copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { compiledScript } from '../core/compiled-script.js'
import type { Logger } from '../core/observability.js'

/** Files of a LevelDB directory that a snapshot leaves out: the lock and our repair marker. */
const NOT_SNAPSHOTTED = new Set(['LOCK', 'REPAIR-REQUESTED'])

/** Bound on one child's run; a repair of a large store on an SD card takes minutes, not hours. @default 10 min */
const CHILD_TIMEOUT_MS = 10 * 60_000

/** Salvage copy attempts (each resumes after the last key a crashed child committed). */
const MAX_COPY_ATTEMPTS = 8

/** The compiled child script (core/compiled-script.ts). */
function childScript(): string {
  return compiledScript(import.meta.url, 'leveldb-child.js')
}

export interface ChildOutcome {
  code: number | null
  signal: NodeJS.Signals | null
  /** The last JSON line the child printed on stdout (its result, or its last progress line). */
  last: Record<string, unknown> | undefined
  /** Last part of stderr (LevelDB's assertion message, an error). */
  stderr: string
}

export interface RunChildOptions {
  /** @default CHILD_TIMEOUT_MS (10 min) */
  timeoutMs?: number
  /** Each JSON line as the child prints it (a copy prints one per batch: they are not kept). */
  onLine?: (line: Record<string, unknown>) => void
}

function describeExit(o: ChildOutcome): string {
  const how = o.signal ? `killed by ${o.signal}` : `exit ${o.code}`
  return `${how}${o.stderr ? `: ${o.stderr.trim().split('\n').slice(-2).join(' | ').slice(0, 400)}` : ''}`
}

/**
 * Runs the child with `args`; never rejects (a failure to spawn is an outcome too). Its stdout is
 * parsed line by line as it arrives and only the last line is kept, so memory does not grow with
 * the size of the store a copy walks through.
 */
export function runChild(args: string[], opts: RunChildOptions = {}): Promise<ChildOutcome> {
  return new Promise((resolve) => {
    // The IPC channel carries nothing: the child exits when it closes, i.e. when the gateway died.
    const child = spawn(process.execPath, [childScript(), ...args], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] })
    let last: Record<string, unknown> | undefined
    let err = ''
    createInterface({ input: child.stdout!, crlfDelay: Infinity }).on('line', (text) => {
      let line: unknown
      try {
        line = JSON.parse(text)
      } catch {
        return // a torn last line of a child that died mid-write
      }
      if (typeof line !== 'object' || line === null) return
      last = line as Record<string, unknown>
      opts.onLine?.(last)
    })
    child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)))
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? CHILD_TIMEOUT_MS)
    let settled = false
    const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resolve({ code, signal, last, stderr: err })
    }
    child.once('error', (e) => {
      err += String(e)
      finish(null, null)
    })
    // 'close', not 'exit': only then has every line of stdout been read.
    child.once('close', finish)
  })
}

/** Mirrors the directory's files into `dst` as hard links (copies where links are refused). */
function snapshotDir(src: string, dst: string): void {
  rmSync(dst, { recursive: true, force: true })
  mkdirSync(dst, { recursive: true })
  for (const name of readdirSync(src)) {
    if (NOT_SNAPSHOTTED.has(name)) continue
    const from = path.join(src, name)
    if (!statSync(from).isFile()) continue // lost/ of an earlier repair stays with the original
    try {
      linkSync(from, path.join(dst, name))
    } catch {
      copyFileSync(from, path.join(dst, name))
    }
  }
}

const repairing = (dir: string): string => `${dir}.repairing`
const repaired = (dir: string): string => `${dir}.repaired`
const preRepair = (dir: string): string => `${dir}.pre-repair`
/** The snapshot a salvage copy of the store `dir` reads (salvage-copy.ts uses the same name). */
const salvageSource = (dir: string): string => `${dir}.salvage-source`

/** Puts the complete `<dir>.repaired` in place of `<dir>`; each step can be redone after a crash. */
function swapInRepaired(dir: string): void {
  if (existsSync(dir)) {
    rmSync(preRepair(dir), { recursive: true, force: true })
    renameSync(dir, preRepair(dir))
  }
  renameSync(repaired(dir), dir)
  rmSync(preRepair(dir), { recursive: true, force: true })
}

/** Completes or discards a repair swap or a salvage a crash interrupted (see the invariants). */
export function finishInterruptedRepair(dir: string, log: Logger): void {
  rmSync(repairing(dir), { recursive: true, force: true })
  rmSync(salvageSource(dir), { recursive: true, force: true })
  if (existsSync(repaired(dir))) {
    swapInRepaired(dir)
    log.warn({ dir }, 'store: completed a repair that a crash interrupted')
  }
  rmSync(preRepair(dir), { recursive: true, force: true })
}

export type RepairOutcome = { ok: true; keys: number } | { ok: false; detail: string }

/** LevelDB repair + verification of a snapshot in a child; on success the snapshot replaces `dir`. */
export async function repairInChild(dir: string, log: Logger): Promise<RepairOutcome> {
  snapshotDir(dir, repairing(dir))
  const outcome = await runChild(['repair', repairing(dir)])
  const result = outcome.last
  // A repair that recovered nothing must not replace the original: the salvage copy that follows
  // reads the original (moved aside and kept), not an empty repaired store.
  if (outcome.code !== 0 || typeof result?.keys !== 'number' || result.keys === 0) {
    rmSync(repairing(dir), { recursive: true, force: true })
    return { ok: false, detail: result?.keys === 0 ? 'repair recovered nothing' : describeExit(outcome) }
  }
  renameSync(repairing(dir), repaired(dir))
  // Unusable files of earlier repairs stay available to the operator.
  const oldLost = path.join(dir, 'lost')
  if (existsSync(oldLost)) {
    mkdirSync(path.join(repaired(dir), 'lost'), { recursive: true })
    for (const name of readdirSync(oldLost)) renameSync(path.join(oldLost, name), path.join(repaired(dir), 'lost', name))
  }
  swapInRepaired(dir)
  log.info({ dir, keys: result.keys }, 'store: the repaired and verified copy replaced the damaged store')
  return { ok: true, keys: result.keys }
}

export interface CopyOutcome {
  copied: number
  /** True when a child finished every key area. */
  complete: boolean
  /** Why the copy stopped early (children that died, without progress). */
  failures: string[]
}

/**
 * Copies what is readable from the damaged store `from` (read through a hard-linked snapshot at
 * `source`) into the empty store directory `to`, one child at a time; a child that dies is
 * followed by one that resumes after its last committed key, as long as they make progress.
 * Damage in `from` only makes the copy incomplete; a copy that cannot WRITE `to`, or a child that
 * cannot be started, throws instead: that is the machine (disk full, LOCK held, no memory), and a
 * copy reported as done would then be taken for everything that was readable.
 */
export async function copyInChild(from: string, to: string, source = salvageSource(to)): Promise<CopyOutcome> {
  snapshotDir(from, source)
  const failures: string[] = []
  let after: string | undefined
  let copied = 0
  try {
    for (let attempt = 0; attempt < MAX_COPY_ATTEMPTS; attempt++) {
      let progress: { last: string; copied: number } | undefined
      let done: { copied: number } | undefined
      const outcome = await runChild(['copy', source, to, ...(after === undefined ? [] : [after])], {
        onLine: (line) => {
          if (typeof line.last === 'string') progress = { last: line.last, copied: Number(line.copied ?? 0) }
          if (line.done === true) done = { copied: Number(line.copied ?? 0) }
        },
      })
      copied += done?.copied ?? progress?.copied ?? 0
      if (outcome.code === 0 && done) return { copied, complete: true, failures }
      if (typeof outcome.last?.targetError === 'string') throw new Error(`salvage copy could not write ${to}: ${outcome.last.targetError}`)
      if (outcome.code === null && outcome.signal === null) throw new Error(`salvage copy child could not be started: ${outcome.stderr}`)
      failures.push(describeExit(outcome))
      if (progress === undefined) break // no progress: the same spot would fail again
      after = progress.last
    }
    return { copied, complete: false, failures }
  } finally {
    rmSync(source, { recursive: true, force: true })
  }
}
