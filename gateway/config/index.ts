export { gatewayConfigSchema } from './schema.js'
export type { GatewayConfig, GatewayConfigInput, SourceConfig, UplinkConfig } from './schema.js'
export { SOURCE_SCHEMAS, UPLINK_SCHEMAS, sourceConfigSchema, uplinkConfigSchema } from './component-types.js'
export {
  DEFAULT_DATA_DIR,
  adminSectionSchema,
  gatewaySectionSchema,
  ingestSectionSchema,
  logSectionSchema,
  storeSectionSchema,
} from './sections.js'
export { ConfigError, ROOT_PATH, formatIssue } from './config-error.js'
export type { ConfigIssue } from './config-error.js'
export { loadConfig, parseConfigText, readConfigSection } from './load.js'
export { substituteEnv } from './env-substitution.js'
export type { SubstitutionResult } from './env-substitution.js'
export { parseListenAddress } from './listen-address.js'
export type { ListenAddress } from './listen-address.js'
export { byteSize, componentId, duration } from './units.js'
