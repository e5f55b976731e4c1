/**
 * The request/response side of the Event Hubs test peer: `$cbs` put-token and `$management` READ.
 *
 * Both are AMQP request/response over a pair of links: the client sends the request on a link to
 * `$cbs`/`$management` and names its own receiving link in `reply_to`; the reply goes on OUR
 * sender whose link name (or source/target address) equals that `reply_to`, with
 * `correlation_id` = the request's `message_id` and the outcome in application property
 * `status-code` (HTTP-like: 200 OK, 202 Accepted, 401 Unauthorized, 404 Not found).
 */
import type { Connection, Message, Sender } from 'rhea'

export interface HubDescription {
  hubName: string
  partitionCount: number
  createdAt: Date
  /** Answer every `$management` read with 401 (sends are still allowed). */
  managementRefused?: boolean
  /** Answer this many more `$management` reads with 503 (a busy or restarting service). */
  managementFailures?: number
}

function addressOf(terminus: unknown): string | undefined {
  const a = (terminus as { address?: unknown } | undefined)?.address
  return typeof a === 'string' ? a : undefined
}

/** Our sender that carries replies to `replyTo`, if the client attached one. */
function replySender(connection: Connection, replyTo: string): Sender | undefined {
  return connection.find_sender((s: Sender) => {
    const remote = (s as unknown as { remote?: { attach?: { source?: unknown; target?: unknown } } }).remote?.attach
    return s.name === replyTo || addressOf(remote?.target) === replyTo || addressOf(remote?.source) === replyTo
  })
}

function reply(connection: Connection, request: Message, status: number, description: string, body?: unknown): boolean {
  const replyTo = typeof request.reply_to === 'string' ? request.reply_to : undefined
  if (!replyTo) return false
  const sender = replySender(connection, replyTo)
  if (!sender) return false
  sender.send({
    correlation_id: request.message_id,
    application_properties: { 'status-code': status, 'status-description': description },
    // An amqp-value body; `undefined` encodes as null, which the SDK ignores for put-token.
    body: body ?? null,
  })
  return true
}

/**
 * Answers a `$cbs` request. Only `put-token` is implemented; the token itself is not checked
 * (the emulator connection string carries a dummy key), `authorized` decides the answer.
 */
export function answerCbs(connection: Connection, request: Message, authorized: boolean): boolean {
  const op = request.application_properties?.['operation']
  if (op !== 'put-token') return reply(connection, request, 400, `unsupported $cbs operation ${String(op)}`)
  return authorized
    ? reply(connection, request, 202, 'Accepted')
    : reply(connection, request, 401, 'Unauthorized: the test peer refuses this token')
}

/** Answers a `$management` READ for the hub (`com.microsoft:eventhub`) or one of its partitions. */
export function answerManagement(connection: Connection, request: Message, hub: HubDescription): boolean {
  const props = request.application_properties ?? {}
  // A policy with only the Send claim, on a service that wants Listen for runtime information.
  if (hub.managementRefused) return reply(connection, request, 401, "Unauthorized access. 'Listen' claim(s) are required to perform this operation.")
  if ((hub.managementFailures ?? 0) > 0) {
    hub.managementFailures!--
    return reply(connection, request, 503, 'The service was unable to process the request; please retry the operation.')
  }
  const name = props['name']
  if (props['operation'] !== 'READ') return reply(connection, request, 400, 'only READ is implemented')
  if (name !== hub.hubName) {
    // Same wording as the service, so the SDK maps it to MessagingEntityNotFoundError.
    return reply(connection, request, 404, `The messaging entity '${String(name)}' could not be found.`)
  }
  const partitionIds = Array.from({ length: hub.partitionCount }, (_, i) => String(i))
  if (props['type'] === 'com.microsoft:partition') {
    const partition = String(props['partition'])
    if (!partitionIds.includes(partition)) return reply(connection, request, 404, `partition ${partition} not found`)
    return reply(connection, request, 200, 'OK', {
      name: hub.hubName,
      partition,
      begin_sequence_number: 0,
      last_enqueued_sequence_number: -1,
      last_enqueued_offset: '-1',
      last_enqueued_time_utc: new Date(0),
      is_partition_empty: true,
    })
  }
  return reply(connection, request, 200, 'OK', {
    name: hub.hubName,
    created_at: hub.createdAt,
    partition_count: hub.partitionCount,
    partition_ids: partitionIds,
  })
}

export { addressOf }
