/**
 * Queue operations for the operator CLI:
 *   GET  /api/queue/peek?uplink=&limit=          oldest un-acked entries (moves nothing)
 *   GET  /api/queue/dead-letters?uplink=&limit=  oldest dead letters
 *   POST /api/queue/requeue?uplink=              dead letters back into the queue (same ids)
 *   POST /api/queue/purge?uplink=                delete the uplink's dead letters
 * Without `uplink`, the reads answer for every uplink; the writes require it.
 *
 * Bounds: `limit` is at most MAX_LIMIT per uplink, and a CloudEvent larger than
 * EVENT_VIEW_MAX_BYTES is listed without its body, so one request cannot build a huge response.
 */
import type { DeadLetter, Entry } from '../../core/types.js'
import { json, type AdminRoutes } from '../admin-http.js'
import type { DeadLettersResponse, EntryView, PeekResponse, PurgeResponse, RequeueResponse } from './api-types.js'
import { guarded, limitParam, uplinkParam, type AccessPolicy } from './request-guard.js'

export const MAX_LIMIT = 500
export const EVENT_VIEW_MAX_BYTES = 8 * 1024

/** What the queue routes need from the store (LevelStore has all of it). */
export interface QueueStore {
  stats(): { perUplink: Record<string, { depth: number }>; deadLetters: number }
  peek(uplink: string, limit?: number): Promise<Entry[]>
  deadLetters(uplink: string, limit?: number): Promise<DeadLetter[]>
  requeueDeadLetters(uplink: string): Promise<number>
  purgeDeadLetters(uplink: string): Promise<number>
}

export interface QueueRouteDeps {
  store: QueueStore
  uplinkIds: readonly string[]
  access: AccessPolicy
  /** Logs operator actions (requeue, purge) for the journal. */
  audit: (action: 'requeue' | 'purge', uplink: string, count: number) => void
  now: () => number
}

export function queueRoutes(d: QueueRouteDeps): AdminRoutes {
  const targets = (id: string | undefined): readonly string[] => (id === undefined ? d.uplinkIds : [id])
  return {
    '/api/queue/peek': {
      GET: guarded(d.access, async (req) => {
        const uplink = uplinkParam(req, d.uplinkIds, true)
        const limit = limitParam(req, 20, MAX_LIMIT)
        const depths = d.store.stats().perUplink
        const body: PeekResponse = { uplinks: [] }
        for (const id of targets(uplink)) {
          const entries = await d.store.peek(id, limit)
          body.uplinks.push({ uplink: id, depth: depths[id]?.depth ?? 0, entries: entries.map((e) => entryView(e, d.now())) })
        }
        return json(200, body)
      }),
    },
    '/api/queue/dead-letters': {
      GET: guarded(d.access, async (req) => {
        const uplink = uplinkParam(req, d.uplinkIds, true)
        const limit = limitParam(req, 100, MAX_LIMIT)
        const body: DeadLettersResponse = { total: d.store.stats().deadLetters, uplinks: [] }
        for (const id of targets(uplink)) {
          const letters = await d.store.deadLetters(id, limit)
          body.uplinks.push({ uplink: id, deadLetters: letters.map((l) => deadLetterView(l, d.now())) })
        }
        return json(200, body)
      }),
    },
    '/api/queue/requeue': {
      POST: guarded(d.access, async (req) => {
        const uplink = uplinkParam(req, d.uplinkIds, false)!
        const requeued = await d.store.requeueDeadLetters(uplink)
        d.audit('requeue', uplink, requeued)
        return json(200, { uplink, requeued } satisfies RequeueResponse)
      }, { mutating: true }),
    },
    '/api/queue/purge': {
      POST: guarded(d.access, async (req) => {
        const uplink = uplinkParam(req, d.uplinkIds, false)!
        const purged = await d.store.purgeDeadLetters(uplink)
        d.audit('purge', uplink, purged)
        return json(200, { uplink, purged } satisfies PurgeResponse)
      }, { mutating: true }),
    },
  }
}

export function entryView(e: Entry, nowMs: number): EntryView {
  const view: EntryView = {
    offset: e.offset,
    priority: e.priority,
    source: e.source,
    id: e.id,
    appendedMs: e.appendedMs,
    ageMs: Math.max(0, nowMs - e.appendedMs),
    sizeBytes: e.sizeBytes,
  }
  if (e.json.length > EVENT_VIEW_MAX_BYTES) {
    // The type is near the start of the JSON; a bounded regex avoids parsing a large event.
    const m = /"type"\s*:\s*"([^"\\]{1,256})"/.exec(e.json.slice(0, 2048))
    if (m) view.type = m[1]
    view.truncated = true
    return view
  }
  try {
    const event = JSON.parse(e.json) as { type?: unknown }
    if (typeof event.type === 'string') view.type = event.type
    view.event = event
  } catch {
    view.truncated = true // not expected: the store holds what the builder serialised
  }
  return view
}

function deadLetterView(l: DeadLetter, nowMs: number) {
  return {
    reason: l.reason,
    message: l.message,
    deadLetteredMs: l.deadLetteredMs,
    ageMs: Math.max(0, nowMs - l.deadLetteredMs),
    entry: entryView(l.entry, nowMs),
  }
}
