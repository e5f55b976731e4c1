export {
  mqttIngressSourceSchema,
  ingressDeviceSchema,
  topicRuleSchema,
  type MqttIngressSourceConfig,
} from './config.js'
export { MqttIngressSource, type MqttIngressDeps } from './ingress-source.js'
export { IngressBroker, type IngressBrokerOptions } from './ingress-broker.js'
export {
  TopicMap,
  compileTopicPattern,
  matchTopic,
  topicPatternError,
  renderTemplate,
  type TopicPattern,
  type TopicRule,
  type TopicMapping,
} from './topic-map.js'
export { parseJsonPayload, MAX_JSON_DEPTH, type PayloadResult } from './payload.js'
export { DeviceDirectory, type DeviceCredentials, type KnownDevice } from './device-directory.js'
export { MqttFrameScanner, GuardedConnection, type ScanVerdict } from './packet-size-guard.js'
export { RejectLog } from '../../gateway/core/reject-log.js'
