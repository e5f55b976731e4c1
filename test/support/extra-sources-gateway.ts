/**
 * Like startTestGateway (gateway-harness.ts), plus sources the test builds itself and hands to the
 * Gateway as `extraSources`: drivers whose lowest layer is a fake (FakeGpioLine, a simulated noble
 * binding, a PTY) cannot be named in a config file. They get the gateway's metrics as counters,
 * as sources built from config do; starting and stopping is startTestGateway's (launchTestGateway).
 * No vitest import.
 */
import { silentLogger, type InputCounters, type Logger } from '../../gateway/core/observability.js'
import type { Source } from '../../gateway/core/types.js'
import { GatewayMetrics } from '../../gateway/telemetry/metrics.js'
import { launchTestGateway, makeTestConfig, type TestGateway, type TestGatewayInput } from './gateway-harness.js'

export interface ExtraSourceDeps {
  log: Logger
  counters: InputCounters
}

export interface ExtraSourcesInput extends Omit<TestGatewayInput, 'sources'> {
  /** Config sources (default none). */
  sources?: unknown[]
  /** Builds the injected sources. */
  extraSources?: (deps: ExtraSourceDeps) => Source[]
}

export async function startGatewayWithSources(input: ExtraSourcesInput): Promise<TestGateway & { extra: Source[] }> {
  const config = makeTestConfig({ ...input, sources: input.sources ?? [] })
  const metrics = new GatewayMetrics({ defaultMetrics: false })
  const extra = input.extraSources?.({ log: silentLogger, counters: metrics }) ?? []
  return { ...(await launchTestGateway(config, metrics, extra)), extra }
}
