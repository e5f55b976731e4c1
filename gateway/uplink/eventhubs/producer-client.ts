/**
 * Builds the SDK producer. `EventHubProducerClient`, deliberately not the buffered producer: that
 * one keeps its own in-memory queue, which duplicates our durable store and loses whatever it
 * holds on a crash or power cut, and it reports success before the service accepted.
 */
import { EventHubProducerClient, RetryMode, type EventHubClientOptions, type RetryOptions } from '@azure/event-hubs'
import type { BatchProducer } from './batch-sender.js'
import type { EventHubsUplinkConfig } from './config.js'
import { installQuietTracing } from './quiet-tracing.js'

/** What the uplink needs from a producer. */
export interface ProducerClient extends BatchProducer {
  /** The hub's partition ids, in the service's order (a `$management` request). */
  getPartitionIds(options: { abortSignal?: AbortSignal }): Promise<string[]>
  close(): Promise<void>
}

/**
 * The SDK's own retry policy, kept modest: our forwarder retries forever from the durable queue,
 * so SDK retries only smooth over blips. Each attempt gets a third of `sendTimeoutMs` so that two
 * retries fit roughly in the budget (the SDK's default is 60 s per attempt, 30 s between attempts).
 * Exponential from 500 ms: ~0.5 s then ~1.5 s between attempts.
 */
export function defaultSdkRetryOptions(sendTimeoutMs: number): RetryOptions {
  return {
    maxRetries: 2,
    retryDelayInMs: 500,
    maxRetryDelayInMs: 4_000,
    mode: RetryMode.Exponential,
    timeoutInMs: Math.max(1_000, Math.floor(sendTimeoutMs / 3)),
  }
}

/**
 * Creates the producer for `config`. No I/O: the SDK connects on first use. Throws only for a
 * connection string the SDK cannot parse (a config error).
 */
export function createProducerClient(config: EventHubsUplinkConfig, options: EventHubClientOptions): ProducerClient {
  installQuietTracing()
  if (config.connectionString !== undefined) {
    return config.eventHubName !== undefined
      ? new EventHubProducerClient(config.connectionString, config.eventHubName, options)
      : new EventHubProducerClient(config.connectionString, options)
  }
  // Same thing the SDK does with a NamedKeyCredential, without depending on @azure/core-auth
  // directly (it is not one of our dependencies).
  const cs =
    `Endpoint=sb://${config.fullyQualifiedNamespace}/;` +
    `SharedAccessKeyName=${config.sharedAccessKeyName};SharedAccessKey=${config.sharedAccessKey}`
  return new EventHubProducerClient(cs, config.eventHubName!, options)
}
