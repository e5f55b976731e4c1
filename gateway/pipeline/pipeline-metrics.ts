/**
 * The counters the pipeline reports. GatewayMetrics (gateway/telemetry) implements it; tests can
 * pass `noopPipelineMetrics`. Kept as an interface so the pipeline does not depend on prom-client.
 */
export interface PipelineMetrics {
  ingested(sourceId: string, n: number): void
  forwarded(uplinkId: string, n: number): void
  dropped(reason: string, n: number, labels?: { uplink?: string }): void
  rejected(component: string, reason: string, n?: number): void
  sendRetry(uplinkId: string, reason: string): void
  sendBatch(uplinkId: string, seconds: number, events: number): void
  /** The wait about to start (`ms`), or none (`0`): the current-backoff gauge. */
  backoff(uplinkId: string, ms: number): void
  /** A wait that ended, as long as it really lasted: the backoff time counter. */
  backoffWaited(uplinkId: string, ms: number): void
}

const noop = (): void => {}
export const noopPipelineMetrics: PipelineMetrics = {
  ingested: noop,
  forwarded: noop,
  dropped: noop,
  rejected: noop,
  sendRetry: noop,
  sendBatch: noop,
  backoff: noop,
  backoffWaited: noop,
}
