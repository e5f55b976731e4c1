/**
 * A real pseudo-terminal pair from socat, for serial tests without hardware: the shipped
 * firmware-sim/pty-link.ts with both links in one test directory, DIR/ttyA and DIR/ttyB.
 * Bytes written to one link come out of the other; serialport opens the link paths directly.
 * `kill()` is an "unplug" (socat exits, its links disappear); `restart()` a "replug" at the same
 * paths. No vitest imports: this is compiled with the build and used by bench/.
 */
import path from 'node:path'
import { openPtyLink, socatInstalled, type PtyLink } from '../../firmware-sim/pty-link.js'

/** `a` (DIR/ttyA): tests put the simulated device here; `b` (DIR/ttyB): the gateway's serial source opens it. */
export type PtyPair = PtyLink

export interface PtyPairOptions {
  /** Longest wait for socat to start or stop, ms. @default 5000 */
  timeoutMs?: number
}

/** True when a `socat` binary runs here. Synchronous, so tests can decide to skip at collection time. */
export const socatAvailable: () => boolean = socatInstalled

/**
 * Starts socat with its links at DIR/ttyA and DIR/ttyB and resolves once both exist.
 * @throws Error (with socat's stderr) when socat is missing, exits early, or does not create the
 *   links within timeoutMs.
 */
export function openPtyPair(dir: string, options: PtyPairOptions = {}): Promise<PtyPair> {
  return openPtyLink({
    deviceLink: path.join(dir, 'ttyA'),
    gatewayLink: path.join(dir, 'ttyB'),
    timeoutMs: options.timeoutMs,
  })
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
