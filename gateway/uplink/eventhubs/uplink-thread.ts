/**
 * Entry point of the Event Hubs uplink thread (see threaded-uplink.ts for why it exists). Runs one
 * EventHubsUplink, unchanged, and serves the gateway's loop over `parentPort`.
 *
 * Invariants:
 * - Every `send` gets exactly one answer (`sent` or `failed`) with its `sendId`; an `abort` for a
 *   send that already ended is ignored.
 * - Rejected entries are answered by their index in the batch, so the gateway's loop hands its own
 *   Entry objects to the forwarder.
 * - Nothing is kept here between sends: the durable queue stays in the gateway's store, so a thread
 *   that dies loses nothing (its sends fail as retriable and are resent).
 */
import { parentPort, workerData } from 'node:worker_threads'
import type { Logger } from '../../core/observability.js'
import { EventHubsUplink } from './eventhubs-uplink.js'
import { toWireError, toWireLogObject, type FromThread, type LogLevel, type ThreadData, type ToThread } from './thread-protocol.js'

const port = parentPort
if (!port) throw new Error('uplink-thread.ts runs only as a worker thread')

function post(message: FromThread): void {
  port!.postMessage(message)
}

/** A Logger that hands every record to the gateway's logger (bindings are added there). */
function threadLogger(bindings: Record<string, unknown> = {}): Logger {
  const emit = (level: LogLevel) => (obj: object | string, msg?: string): void => {
    if (typeof obj === 'string') post({ type: 'log', level, obj: { ...bindings }, msg: obj })
    else post({ type: 'log', level, obj: { ...bindings, ...toWireLogObject(obj) }, msg })
  }
  return {
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    child: (more) => threadLogger({ ...bindings, ...more }),
  }
}

const { config, sdkRetryOptions } = workerData as ThreadData
const uplink = new EventHubsUplink(config, {
  logger: threadLogger(),
  ...(sdkRetryOptions ? { sdkRetryOptions } : {}),
  onHealthChange: (health) => post({ type: 'health', health }),
})
const sends = new Map<number, AbortController>()

async function send(sendId: number, batch: Parameters<EventHubsUplink['send']>[0]): Promise<void> {
  const controller = new AbortController()
  sends.set(sendId, controller)
  try {
    const result = await uplink.send(batch, controller.signal)
    // Rejections are rare (oversize, invalid): look their positions up only when there are some.
    post({ type: 'sent', sendId, rejected: result.rejected.map((r) => ({ index: batch.indexOf(r.entry), reason: r.reason, message: r.message })) })
  } catch (err) {
    post({ type: 'failed', sendId, error: toWireError(err) })
  } finally {
    sends.delete(sendId)
  }
}

port.on('message', (message: ToThread) => {
  switch (message.type) {
    case 'start':
      uplink.start().then(
        () => post({ type: 'started' }),
        (err: unknown) => post({ type: 'started', error: toWireError(err) }),
      )
      return
    case 'send':
      void send(message.sendId, message.batch)
      return
    case 'abort':
      sends.get(message.sendId)?.abort(new Error(message.reason))
      return
    case 'stop':
      // stop() never throws (it logs a failed close itself).
      void uplink.stop().then(() => post({ type: 'stopped' }))
      return
  }
})
