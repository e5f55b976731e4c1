export { gpioSourceSchema, type GpioSourceConfig } from './config.js'
export { GpioSource, type GpioSourceDeps, type GpioSourceStats } from './gpio-source.js'
export {
  openOnoffLine,
  describeGpioError,
  gpioUnavailable,
  type GpioLine,
  type GpioLineOptions,
  type OpenGpioLine,
  type LineEdge,
  type LineValue,
} from './gpio-line.js'
export {
  mapBcmToSysfs,
  listGpioChips,
  SOC_GPIO_LABELS,
  DEFAULT_SYSFS_GPIO_ROOT,
  type GpioChipInfo,
  type SysfsPinMapping,
} from './sysfs-pin-map.js'
export { EdgeDebouncer, type DebounceEvent, type EdgeDebouncerOptions } from './debounce.js'
