/**
 * Every source and uplink type the config accepts. Adding a driver or uplink is one entry in a
 * list below (plus its `case` in gateway/runtime/components.ts); the union, its error messages and
 * the `GatewayConfig` type follow.
 */
import { simulatorSourceSchema } from '../../drivers/simulator/config.js'
import { bleSourceSchema } from '../../drivers/ble/config.js'
import { serialSourceSchema } from '../../drivers/serial/config.js'
import { gpioSourceSchema } from '../../drivers/gpio/config.js'
import { mqttIngressSourceSchema } from '../../drivers/mqtt-ingress/config.js'
import { mqttUplinkSchema } from '../uplink/mqtt/config.js'
import { eventHubsUplinkSchema } from '../uplink/eventhubs/config.js'
import { typedUnion } from './typed-union.js'

/** Schemas of `sources[]` entries, told apart by `type`. */
export const SOURCE_SCHEMAS = [simulatorSourceSchema, gpioSourceSchema, mqttIngressSourceSchema, bleSourceSchema, serialSourceSchema] as const

/** Schemas of `uplinks[]` entries, told apart by `type`. */
export const UPLINK_SCHEMAS = [mqttUplinkSchema, eventHubsUplinkSchema] as const

/** One `sources[]` entry. */
export const sourceConfigSchema = typedUnion('source', SOURCE_SCHEMAS)

/** One `uplinks[]` entry. */
export const uplinkConfigSchema = typedUnion('uplink', UPLINK_SCHEMAS)
