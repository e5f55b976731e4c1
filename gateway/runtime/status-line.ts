/** The demo's one-line live status: what came in, what left, what waits, what was dropped, and how fast. */
export interface StatusSample {
  atMs: number
  ingested: number
  forwarded: number
  queued: number
  dropped: number
}

export function formatStatusLine(now: StatusSample, prev: StatusSample | undefined): string {
  const secs = prev ? Math.max(0.001, (now.atMs - prev.atMs) / 1000) : 1
  const inRate = prev ? (now.ingested - prev.ingested) / secs : 0
  const outRate = prev ? (now.forwarded - prev.forwarded) / secs : 0
  return (
    `in ${now.ingested} (${inRate.toFixed(0)}/s) | forwarded ${now.forwarded} (${outRate.toFixed(0)}/s)` +
    ` | queued ${now.queued} | dropped ${now.dropped}`
  )
}
