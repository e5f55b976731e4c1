/**
 * Builds sources and uplinks from their validated config. Adding a type is one case here plus its
 * schema in gateway/config. Drivers are imported lazily so a machine without, say, Bluetooth never
 * loads the BLE stack.
 */
import type { InputCounters, Logger } from '../core/observability.js'
import type { Source, Uplink } from '../core/types.js'
import type { GatewayConfig } from '../config/index.js'
import { SimulatorSource } from '../../drivers/simulator/index.js'
import { MqttUplink } from '../uplink/mqtt/index.js'

export type SourceConfig = GatewayConfig['sources'][number]
export type UplinkConfig = GatewayConfig['uplinks'][number]

export interface ComponentDeps {
  gatewayId: string
  log: Logger
  counters: InputCounters
}

export async function createSource(config: SourceConfig, deps: ComponentDeps): Promise<Source> {
  switch (config.type) {
    case 'simulator':
      return new SimulatorSource(config)
    case 'gpio': {
      // Loaded only when configured: onoff needs sysfs GPIO and a native epoll addon.
      const { GpioSource } = await import('../../drivers/gpio/index.js')
      return new GpioSource(config, { log: deps.log.child({ component: `source:${config.id}` }), counters: deps.counters })
    }
    case 'mqtt': {
      // Loaded only when configured: the aedes broker is only needed by gateways that accept sensors.
      const { MqttIngressSource } = await import('../../drivers/mqtt-ingress/index.js')
      return new MqttIngressSource(config, { log: deps.log.child({ component: `source:${config.id}` }), counters: deps.counters })
    }
    case 'serial': {
      // Loaded only when configured: serialport ships a native binding.
      const { SerialSource } = await import('../../drivers/serial/index.js')
      return new SerialSource(config, { log: deps.log.child({ component: `source:${config.id}` }), counters: deps.counters })
    }
    case 'ble': {
      // Loaded only when configured; noble itself is loaded later still, inside the source, because
      // it throws at import time on a machine without Bluetooth.
      const { BleSource } = await import('../../drivers/ble/index.js')
      return new BleSource(config, { log: deps.log.child({ component: `source:${config.id}` }), counters: deps.counters })
    }
  }
}

export async function createUplink(config: UplinkConfig, deps: ComponentDeps): Promise<Uplink> {
  const log = deps.log.child({ component: `uplink:${config.id}` })
  switch (config.type) {
    case 'mqtt':
      return new MqttUplink(config, { gatewayId: deps.gatewayId, log })
    case 'eventhubs': {
      // Loaded only when configured: the Azure SDK is large and most gateways use one uplink type.
      const { EventHubsUplink, ThreadedEventHubsUplink } = await import('../uplink/eventhubs/index.js')
      return config.thread === 'worker' ? new ThreadedEventHubsUplink(config, { logger: log }) : new EventHubsUplink(config, { logger: log })
    }
  }
}
