/** Small helpers of LevelStore that need no state. */
import { GatewayError } from '../core/errors.js'
import type { PreparedEvent } from './append-plan.js'

/** Splits events (in order) into runs of at most `maxBytes` each; every event is <= maxBytes. */
export function chunkBySize(events: readonly PreparedEvent[], maxBytes: number): PreparedEvent[][] {
  const chunks: PreparedEvent[][] = []
  let current: PreparedEvent[] = []
  let bytes = 0
  for (const event of events) {
    if (current.length > 0 && bytes + event.sizeBytes > maxBytes) {
      chunks.push(current)
      current = []
      bytes = 0
    }
    current.push(event)
    bytes += event.sizeBytes
  }
  if (current.length > 0) chunks.push(current)
  return chunks
}

function levelCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | undefined
  const code = e?.cause?.code ?? e?.code
  return typeof code === 'string' ? code : undefined
}

/**
 * Maps an open-time failure: LevelDB corruption -> GW_ERR_STORE_CORRUPT (salvage is a separate
 * step), any other level error -> GW_ERR_STORE_CLOSED; GatewayErrors pass through. Cause kept.
 */
export function toStoreError(err: unknown, dir: string): Error {
  if (err instanceof GatewayError) return err
  if (levelCode(err) === 'LEVEL_CORRUPTION') {
    return new GatewayError('GW_ERR_STORE_CORRUPT', `store at ${dir} is corrupt`, { cause: err })
  }
  const detail = levelCode(err) === 'LEVEL_LOCKED' ? ' (another process holds its LOCK)' : ''
  return new GatewayError('GW_ERR_STORE_CLOSED', `store at ${dir} could not be opened${detail}`, { cause: err })
}
