export { MqttUplink, STABLE_CONNECTION_MS, type MqttUplinkDeps } from './mqtt-uplink.js'
export type { ConnectionListener } from './connection-signal.js'
export { mqttUplinkSchema, mqttTlsSchema, type MqttUplinkConfig } from './config.js'
export type { MqttUplinkStats } from './uplink-counters.js'
export {
  encodeEntries,
  binaryMessage,
  isJsonContentType,
  STRUCTURED_CONTENT_TYPE,
  BATCH_CONTENT_TYPE,
  type BindingMode,
  type OutMessage,
  type RejectedEntry,
  type EncodeOptions,
  type EncodeResult,
} from './cloudevents-binding.js'
export { compileTopicTemplate, sanitizeTopicLevel, splitEventSource, type TopicTemplate, type TopicFields } from './topic-template.js'
export { classifyPubackCode, type PubackVerdict } from './classify-error.js'
export { publishPacketBytes, MQTT_MAX_PACKET_BYTES, type PublishProperties } from './packet-size.js'
export { redactUrl, defaultClientId } from './client-options.js'
