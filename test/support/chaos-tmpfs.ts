/**
 * A small tmpfs for disk-full chaos scenarios: `mount -t tmpfs -o size=8m tmpfs DIR`.
 *
 * Policy when it cannot be mounted (not root, no CAP_SYS_ADMIN, a container without mount
 * rights): skip with the reason locally; under CI=true FAIL, but only when running as root (a CI
 * that runs as root and still cannot mount has lost the scenario; a non-root CI never had it).
 *
 * No vitest import: compiled with the build (tsconfig.build.json includes test/support).
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'

export type MountOutcome = { mounted: true } | { mounted: false; reason: string; mustFail: boolean }

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0
}

/** Mounts a tmpfs of `size` (mount(8) syntax: 8m) at `dir` (created if missing). */
export function mountTmpfs(dir: string, size: string): MountOutcome {
  mkdirSync(dir, { recursive: true })
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir], { encoding: 'utf8', timeout: 10_000 })
  if (r.status === 0) return { mounted: true }
  const why = (r.error?.message ?? `${r.stderr}`.trim()) || `exit ${r.status}`
  const root = isRoot()
  const reason = `cannot mount a tmpfs at ${dir} (${why}); ${root ? 'running as root' : 'not running as root'}: disk-full scenarios need mount rights`
  return { mounted: false, reason, mustFail: process.env.CI === 'true' && root }
}

/** Unmounts (lazily if busy). Never throws. */
export function unmountTmpfs(dir: string): void {
  const r = spawnSync('umount', [dir], { encoding: 'utf8', timeout: 10_000 })
  if (r.status !== 0) spawnSync('umount', ['-l', dir], { encoding: 'utf8', timeout: 10_000 })
}

/** Bytes used and free on the filesystem holding `dir` (df), or undefined. */
export function diskUsage(dir: string): { usedBytes: number; availBytes: number } | undefined {
  const r = spawnSync('df', ['-B1', '--output=used,avail', dir], { encoding: 'utf8', timeout: 5_000 })
  const line = r.stdout?.trim().split('\n')[1]
  if (!line) return undefined
  const [used, avail] = line.trim().split(/\s+/).map(Number)
  return used === undefined || avail === undefined ? undefined : { usedBytes: used, availBytes: avail }
}
