/**
 * Runs a real Gateway in-process for integration tests: config parsed by the real schema, a real
 * LevelStore in a temp dir, real uplinks. No vitest import (usable from benches too).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { gatewayConfigSchema, type GatewayConfig } from '../../gateway/config/index.js'
import { silentLogger, type Logger } from '../../gateway/core/observability.js'
import type { Source } from '../../gateway/core/types.js'
import { createLogger } from '../../gateway/telemetry/logger.js'
import { Gateway } from '../../gateway/runtime/gateway.js'
import { GatewayMetrics } from '../../gateway/telemetry/metrics.js'

export interface TestGateway {
  gateway: Gateway
  metrics: GatewayMetrics
  config: GatewayConfig
  dataDir: string
  /** `http://127.0.0.1:PORT` when started with `admin`. */
  adminUrl?: string
  /** Stops the gateway (idempotent). */
  stop(): Promise<void>
  /** Stops and deletes the data dir. */
  dispose(): Promise<void>
}

export interface TestGatewayInput {
  sources: unknown[]
  uplinks: unknown[]
  store?: Record<string, unknown>
  ingest?: Record<string, unknown>
  /** Reuse a data dir (restart tests). */
  dataDir?: string
  gatewayId?: string
  /** Serve the admin endpoint on 127.0.0.1:0 (extra admin keys may be given); default off. */
  admin?: boolean | Record<string, unknown>
}

export function makeTestConfig(input: TestGatewayInput): GatewayConfig {
  const dataDir = input.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'eg-gw-'))
  return gatewayConfigSchema.parse({
    gateway: { id: input.gatewayId ?? 'gw-test', dataDir },
    store: { maxBytes: '64MiB', maxAge: '1d', ...input.store },
    ...(input.ingest ? { ingest: input.ingest } : {}),
    sources: input.sources,
    uplinks: input.uplinks,
    admin: input.admin ? { listen: '127.0.0.1:0', ...(input.admin === true ? {} : input.admin) } : { enabled: false },
    log: { level: 'warn' },
  })
}

export async function startTestGateway(input: TestGatewayInput): Promise<TestGateway> {
  return launchTestGateway(makeTestConfig(input), new GatewayMetrics({ defaultMetrics: false }))
}

/**
 * Starts a Gateway on a parsed config and wraps it as a {@link TestGateway}: the one place that
 * knows how tests stop a gateway (bounded forwarder grace, idempotent) and clean up after it.
 * @param extraSources sources built by the test (extra-sources-gateway.ts), run next to the config's.
 */
export async function launchTestGateway(config: GatewayConfig, metrics: GatewayMetrics, extraSources: Source[] = []): Promise<TestGateway> {
  const gateway = new Gateway(config, { log: testLogger(), metrics, extraSources })
  await gateway.start()
  let stopped: Promise<void> | undefined
  const stop = (): Promise<void> => (stopped ??= gateway.stop({ forwarderGraceMs: 2000 }))
  return {
    gateway,
    metrics,
    config,
    dataDir: config.gateway.dataDir,
    adminUrl: gateway.adminPort !== undefined ? `http://127.0.0.1:${gateway.adminPort}` : undefined,
    stop,
    dispose: async () => {
      await stop()
      rmSync(config.gateway.dataDir, { recursive: true, force: true })
    },
  }
}

/** Polls `predicate` every 20 ms until it holds; for state that emits no event (metrics). */
export async function until(predicate: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** Expected events per CloudEvent source for a simulator: devices × count. */
export function expectedFromSimulator(gatewayId: string, sourceId: string, devices: number, count: number): Map<string, number> {
  const m = new Map<string, number>()
  for (let d = 1; d <= devices; d++) m.set(`/gateways/${gatewayId}/${sourceId}/sim-${String(d).padStart(4, '0')}`, count)
  return m
}

/** Silent unless EG_TEST_LOG names a level (e.g. EG_TEST_LOG=debug npx vitest run ...). */
function testLogger(): Logger {
  const level = process.env.EG_TEST_LOG
  return level ? (createLogger({ level: level as 'debug', destination: 2 }) as unknown as Logger) : silentLogger
}
