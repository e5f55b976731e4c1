/**
 * A real pseudo-terminal pair from socat, for serial tests without hardware:
 *   socat -d -d pty,raw,echo=0,link=DIR/ttyA pty,raw,echo=0,link=DIR/ttyB
 * Bytes written to one link come out of the other; serialport opens the link paths directly.
 * `kill()` is an "unplug" (socat exits, its links disappear); `restart()` a "replug" at the same
 * paths. No vitest imports: this is compiled with the build and used by bench/ and firmware-sim/.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, rmSync } from 'node:fs'
import path from 'node:path'

export interface PtyPair {
  /** Link path of end A (tests put the simulated device here). */
  readonly a: string
  /** Link path of end B (the gateway's serial source opens this one). */
  readonly b: string
  /** SIGTERM socat, wait for it to exit and for both links to be gone. Idempotent. */
  kill(): Promise<void>
  /** Start a new socat at the same link paths and wait until both exist. Kills a running one first. */
  restart(): Promise<void>
}

export interface PtyPairOptions {
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

/** True when a `socat` binary runs here. Synchronous so tests can decide to skip at collection time. */
export function socatAvailable(): boolean {
  try {
    return spawnSync('socat', ['-V'], { stdio: 'ignore', timeout: 5000 }).status === 0
  } catch {
    return false
  }
}

/**
 * Starts socat and resolves once both links exist.
 * @throws Error (with socat's stderr) when socat is missing, exits early, or does not create the
 *   links within timeoutMs.
 */
export async function openPtyPair(dir: string, options: PtyPairOptions = {}): Promise<PtyPair> {
  const timeoutMs = options.timeoutMs ?? 5000
  const a = path.join(dir, 'ttyA')
  const b = path.join(dir, 'ttyB')
  let child: ChildProcess | null = await startSocat(a, b, timeoutMs)

  async function kill(): Promise<void> {
    const c = child
    child = null
    if (c) await stopSocat(c, timeoutMs)
    // After SIGKILL socat cannot remove its links; a stale link would look like a present device.
    rmSync(a, { force: true })
    rmSync(b, { force: true })
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

/**
 * Polls `predicate` until it is true; for the few states that raise no event. Rejects with
 * `what` in the message after timeoutMs.
 * @param intervalMs @default 10
 */
export async function pollUntil(
  predicate: () => boolean, what: string, timeoutMs = 10_000, intervalMs = 10,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

function startSocat(a: string, b: string, timeoutMs: number): Promise<ChildProcess> {
  rmSync(a, { force: true })
  rmSync(b, { force: true })
  const child = spawn('sh', ['-c', LIFETIME_WRAPPER, 'sh', '-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], {
    stdio: ['pipe', 'ignore', 'pipe'],
  })
  let stderr = ''
  return new Promise<ChildProcess>((resolve, reject) => {
    const fail = (why: string): void => {
      cleanup()
      child.kill('SIGKILL')
      reject(new Error(`socat ${why}: ${stderr.slice(-2000)}`))
    }
    const timer = setTimeout(() => fail(`did not create ${a} and ${b} within ${timeoutMs} ms`), timeoutMs)
    let started = false
    let settled = false
    const check = (): void => {
      if (settled) return
      if (existsSync(a) && existsSync(b)) {
        cleanup()
        resolve(child)
      } else {
        setTimeout(check, 10) // bounded by `timer`
      }
    }
    const onData = (d: Buffer): void => {
      stderr = (stderr + d.toString()).slice(-8192)
      // socat logs this (with -d -d) once both PTYs and their links exist.
      if (!started && stderr.includes('starting data transfer loop')) {
        started = true
        check()
      }
    }
    const onExit = (code: number | null, signal: string | null): void => fail(`exited early (code ${code}, signal ${signal})`)
    const onError = (err: Error): void => fail(`could not start (${err.message})`)
    function cleanup(): void {
      settled = true
      clearTimeout(timer)
      child.stderr?.removeListener('data', onData)
      child.removeListener('exit', onExit)
      child.removeListener('error', onError)
      // Keep draining stderr so socat never blocks on a full pipe.
      child.stderr?.resume()
    }
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
