/**
 * libfaketime for clock-jump chaos: the gateway child runs with
 *   LD_PRELOAD=libfaketime.so.1 FAKETIME_TIMESTAMP_FILE=F FAKETIME_NO_CACHE=1 FAKETIME_DONT_FAKE_MONOTONIC=1
 * and the test rewrites F ("+0", "+5h", "-5h") while it runs: the wall clock (Date.now, the
 * CloudEvent `time`, the store's append/expiry clock) jumps; CLOCK_MONOTONIC (Node timers,
 * performance.now) does not, exactly like an NTP step or an RTC-less Pi setting its clock late.
 *
 * Debian/Raspberry Pi OS: `apt-get install faketime` (pulls libfaketime). .ci/run installs it.
 * No vitest import: compiled with the build (tsconfig.build.json includes test/support).
 */
import { accessSync, constants, writeFileSync } from 'node:fs'

const CANDIDATES = [
  '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/arm-linux-gnueabihf/faketime/libfaketime.so.1',
  '/usr/lib/faketime/libfaketime.so.1',
  '/usr/local/lib/faketime/libfaketime.so.1',
]

/** Path of libfaketime.so.1, or undefined when it is not installed. */
export function libfaketimePath(): string | undefined {
  for (const file of CANDIDATES) {
    try {
      accessSync(file, constants.R_OK)
      return file
    } catch {
      // not here
    }
  }
  return undefined
}

export interface FakeClock {
  /** Environment for the child process. */
  env: Record<string, string>
  /** Sets the offset from the real clock, libfaketime syntax: '+0', '+5h', '-90m', '+2d'. */
  set(offset: string): void
}

/** A fake clock driven through `file`; starts at offset '+0'. */
export function fakeClock(lib: string, file: string): FakeClock {
  const set = (offset: string): void => writeFileSync(file, `${offset}\n`)
  set('+0')
  return {
    env: {
      LD_PRELOAD: lib,
      FAKETIME_TIMESTAMP_FILE: file,
      FAKETIME_NO_CACHE: '1',
      FAKETIME_DONT_FAKE_MONOTONIC: '1',
    },
    set,
  }
}
