/**
 * A socat pseudo-terminal pair whose two ends appear at link paths the caller chooses:
 *   socat -d -d pty,raw,echo=0,link=DEVICE pty,raw,echo=0,link=GATEWAY
 * The simulated sensor writes to DEVICE; the gateway's serial source opens GATEWAY exactly as it
 * would open /dev/ttyUSB0. Used by `edge-gateway simulate serial` and the demo, which are shipped;
 * the tests' test/support/pty-pair.ts builds on this module (tests may import product code, never
 * the other way round: dist/test is not packaged).
 *
 * Lifetime: socat runs under a tiny shell that SIGTERMs it when our end of its stdin pipe closes,
 * so no socat (and no stale link) outlives this process, even after a SIGKILL of it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, lstatSync, rmSync } from 'node:fs'
import type { PtyEndpoint } from './serial-sensor.js'

export interface PtyLink extends PtyEndpoint {
  /** Link of the simulated device's end. */
  readonly a: string
  /** Link of the gateway's end: put this in the serial source's `path`. */
  readonly b: string
  /** Stops socat and waits until it exited and both links are gone. Idempotent. */
  kill(): Promise<void>
  /** A new socat at the same links (a "replug"). */
  restart(): Promise<void>
}

export interface PtyLinkOptions {
  /** Where the simulated device writes. */
  deviceLink: string
  /** Where the gateway reads. */
  gatewayLink: string
  /** Longest wait for socat to start or stop, ms. @default 5000 */
  timeoutMs?: number
}

/**
 * Runs `socat "$@"` for as long as our end of its stdin pipe is open. When we close it, or when
 * this process dies in any way (a vitest worker is killed without an 'exit' event), the reader
 * sees EOF and SIGTERMs socat, so no orphaned socat keeps PTYs and links around. fd 3: an
 * asynchronous list's stdin is /dev/null in a non-interactive shell (POSIX), so keep a copy.
 */
const LIFETIME_WRAPPER = 'exec 3<&0; socat "$@" & pid=$!; (read _ <&3; kill -TERM $pid 2>/dev/null) & wait $pid'

/** True when a `socat` binary runs here. Synchronous, so tests can decide to skip at collection time. */
export function socatInstalled(): boolean {
  try {
    return spawnSync('socat', ['-V'], { stdio: 'ignore', timeout: 5000 }).status === 0
  } catch {
    return false
  }
}

/**
 * Removes `link` if it is a symlink left behind by an earlier run (socat makes symlinks).
 * @throws Error when `link` exists and is not a symlink: it may be a real device or file.
 */
export function clearStaleLink(link: string): void {
  let stat
  try {
    stat = lstatSync(link)
  } catch {
    return // nothing there
  }
  if (!stat.isSymbolicLink()) throw new Error(`${link} exists and is not a symlink; refusing to replace it`)
  rmSync(link, { force: true })
}

/**
 * Starts socat and resolves once both links exist.
 * @throws Error (with socat's stderr) when socat is missing, exits early, or times out; or when a
 *   link path is taken by something that is not a stale symlink.
 */
export async function openPtyLink(opts: PtyLinkOptions): Promise<PtyLink> {
  const { deviceLink: a, gatewayLink: b } = opts
  const timeoutMs = opts.timeoutMs ?? 5000
  clearStaleLink(a)
  clearStaleLink(b)
  let child: ChildProcess | null = await startSocat(a, b, timeoutMs)
  const kill = async (): Promise<void> => {
    const c = child
    child = null
    if (c) await stopSocat(c, timeoutMs)
    // After a SIGKILL socat cannot remove its links; a stale link would look like a present device.
    for (const link of [a, b]) if (isSymlink(link)) rmSync(link, { force: true })
  }
  return {
    a,
    b,
    kill,
    async restart() {
      await kill()
      child = await startSocat(a, b, timeoutMs)
    },
  }
}

function isSymlink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink()
  } catch {
    return false
  }
}

function startSocat(a: string, b: string, timeoutMs: number): Promise<ChildProcess> {
  const child = spawn('sh', ['-c', LIFETIME_WRAPPER, 'sh', '-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], {
    stdio: ['pipe', 'ignore', 'pipe'],
  })
  let stderr = ''
  return new Promise<ChildProcess>((resolve, reject) => {
    let settled = false
    const finish = (err?: Error): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      child.stderr?.removeListener('data', onData)
      child.removeListener('exit', onExit)
      child.removeListener('error', onError)
      child.stderr?.resume() // keep draining so socat never blocks on a full pipe
      if (!err) return resolve(child)
      child.kill('SIGKILL')
      reject(err)
    }
    const timer = setTimeout(() => finish(new Error(`socat did not create ${a} and ${b} within ${timeoutMs} ms: ${stderr.slice(-2000)}`)), timeoutMs)
    let started = false
    const check = (): void => {
      if (settled) return
      if (existsSync(a) && existsSync(b)) finish()
      else setTimeout(check, 10) // bounded by `timer`
    }
    const onData = (d: Buffer): void => {
      stderr = (stderr + d.toString()).slice(-8192)
      // socat logs this (with -d -d) once both PTYs and their links exist.
      if (!started && stderr.includes('starting data transfer loop')) {
        started = true
        check()
      }
    }
    const onExit = (code: number | null, signal: string | null): void =>
      finish(new Error(`socat exited early (code ${code}, signal ${signal}): ${stderr.slice(-2000)}`))
    const onError = (err: Error): void => finish(new Error(`socat could not start (${err.message})`))
    child.stderr?.on('data', onData)
    child.once('exit', onExit)
    child.once('error', onError)
  })
}

async function stopSocat(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.stdin?.end() // the wrapper sends socat SIGTERM; socat removes its links and exits
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  await exited
  clearTimeout(timer)
}
