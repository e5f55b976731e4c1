/** `edge-gateway run`: start the gateway from a validated config and run until SIGTERM/SIGINT. */
import type { GatewayConfig } from '../config/index.js'
import { createLogger } from '../telemetry/logger.js'
import { GatewayMetrics } from '../telemetry/metrics.js'
import { Gateway } from './gateway.js'
import { waitForStopSignal } from './signals.js'

/** Exit codes: 0 clean stop, 1 could not start (e.g. store unusable). Config errors (78) are handled before this. */
export async function runGateway(config: GatewayConfig, opts: { configPath?: string } = {}): Promise<number> {
  const log = createLogger({ level: config.log.level, pretty: config.log.pretty })
  const metrics = new GatewayMetrics()
  const gateway = new Gateway(config, { log, metrics })
  const stopSignal = waitForStopSignal()
  try {
    await gateway.start()
  } catch (err) {
    log.fatal?.({ err }, 'gateway could not start')
    log.error({ err, configPath: opts.configPath }, 'gateway could not start')
    await gateway.stop().catch(() => {})
    return 1
  }
  const sig = await stopSignal
  log.info({ signal: sig }, 'stop requested')
  await gateway.stop()
  return 0
}
