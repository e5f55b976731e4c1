/**
 * Keeps a source running. Sources are written not to throw for bad input or unplugged hardware
 * (they report it in health()), but a bug in one must never stop the gateway or the other sources:
 * an unexpected throw is logged and the source is restarted with backoff.
 */
import type { ReadingSink, Source } from '../core/types.js'
import { Backoff } from '../core/backoff.js'
import { sleep } from '../core/abort.js'
import type { Logger } from '../core/observability.js'

export async function superviseSource(source: Source, sink: ReadingSink, signal: AbortSignal, log: Logger): Promise<void> {
  const backoff = new Backoff({ initialMs: 500, maxMs: 30_000 })
  while (!signal.aborted) {
    try {
      await source.run(sink, signal)
      return // finished (simulator count reached) or stopped
    } catch (err) {
      if (signal.aborted) return
      const waitMs = backoff.next()
      log.error({ err, source: source.id, waitMs }, 'source failed unexpectedly; restarting')
      await sleep(waitMs, signal)
    }
  }
}
