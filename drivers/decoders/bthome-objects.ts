/**
 * The BTHome v2 object table, transcribed from bthome.io/format (home-assistant/bthome.io
 * src/format.html @ 0cf388b02e1c, the revision ../shared/vectors/bthome.json pins). All integers
 * little-endian; value = raw * factor. `name` follows bthome-ble's sensor keys (so repeated
 * objects get the same `_1`, `_2` postfixes as Home Assistant); `key` is our reading data key with
 * the unit in the name (house style: `temperatureC`, `pressureHpa`).
 *
 * Factors are stored as `div` (and `mul` for the one non-decimal factor, 0.35) so values come out
 * as the nearest double to the printed decimal.
 */

/** A numeric sensor object. */
export interface NumberDef {
  kind: 'number'
  name: string
  key: string
  bytes: 1 | 2 | 3 | 4
  signed: boolean
  div: number
  mul?: number
  unit?: string
}
/** A binary sensor object: 1 byte, 0 = false. `whenTrue` is the spec's label for 1. */
export interface BinaryDef {
  kind: 'binary'
  name: string
  key: string
  whenTrue: string
}
/** Objects with their own decoding rules (bthome.io sections "Events", "Device", "Misc"). */
export interface SpecialDef {
  kind: 'packet_id' | 'timestamp' | 'text' | 'raw' | 'button' | 'dimmer' | 'command' | 'device_type' | 'firmware'
  name: string
  key: string
  /** Fixed length; undefined for length-prefixed objects (text, raw, command). */
  bytes?: number
}
export type ObjectDef = NumberDef | BinaryDef | SpecialDef

const u = (bytes: NumberDef['bytes'], div = 1, mul?: number) => ({ bytes, signed: false, div, mul })
const s = (bytes: NumberDef['bytes'], div = 1, mul?: number) => ({ bytes, signed: true, div, mul })

function num(name: string, key: string, t: ReturnType<typeof u>, unit?: string): NumberDef {
  return { kind: 'number', name, key, ...t, unit }
}
function bin(name: string, key: string, whenTrue: string): BinaryDef {
  return { kind: 'binary', name, key, whenTrue }
}

/** Object id -> definition. An id missing here cannot be skipped (its length is unknown). */
export const BTHOME_OBJECTS: ReadonlyMap<number, ObjectDef> = new Map<number, ObjectDef>([
  [0x00, { kind: 'packet_id', name: 'packet_id', key: 'packetId', bytes: 1 }],
  [0x01, num('battery', 'batteryPct', u(1), '%')],
  [0x02, num('temperature', 'temperatureC', s(2, 100), '°C')],
  [0x03, num('humidity', 'humidityPct', u(2, 100), '%')],
  [0x04, num('pressure', 'pressureHpa', u(3, 100), 'hPa')],
  [0x05, num('illuminance', 'illuminanceLux', u(3, 100), 'lx')],
  [0x06, num('mass', 'massKg', u(2, 100), 'kg')],
  [0x07, num('mass', 'massLb', u(2, 100), 'lb')],
  [0x08, num('dew_point', 'dewPointC', s(2, 100), '°C')],
  [0x09, num('count', 'count', u(1))],
  [0x0a, num('energy', 'energyKwh', u(3, 1000), 'kWh')],
  [0x0b, num('power', 'powerW', u(3, 100), 'W')],
  [0x0c, num('voltage', 'voltageV', u(2, 1000), 'V')],
  [0x0d, num('pm25', 'pm25Ugm3', u(2), 'µg/m³')],
  [0x0e, num('pm10', 'pm10Ugm3', u(2), 'µg/m³')],
  [0x0f, bin('generic', 'generic', 'On')],
  [0x10, bin('power', 'powerOn', 'On')],
  [0x11, bin('opening', 'opening', 'Open')],
  [0x12, num('carbon_dioxide', 'co2Ppm', u(2), 'ppm')],
  [0x13, num('volatile_organic_compounds', 'tvocUgm3', u(2), 'µg/m³')],
  [0x14, num('moisture', 'moisturePct', u(2, 100), '%')],
  [0x15, bin('battery', 'batteryLow', 'Low')],
  [0x16, bin('battery_charging', 'batteryCharging', 'Charging')],
  [0x17, bin('carbon_monoxide', 'carbonMonoxide', 'Detected')],
  [0x18, bin('cold', 'cold', 'Cold')],
  [0x19, bin('connectivity', 'connectivity', 'Connected')],
  [0x1a, bin('door', 'door', 'Open')],
  [0x1b, bin('garage_door', 'garageDoor', 'Open')],
  [0x1c, bin('gas', 'gas', 'Detected')],
  [0x1d, bin('heat', 'heat', 'Hot')],
  [0x1e, bin('light', 'light', 'Light detected')],
  [0x1f, bin('lock', 'unlocked', 'Unlocked')],
  [0x20, bin('moisture', 'wet', 'Wet')],
  [0x21, bin('motion', 'motion', 'Detected')],
  [0x22, bin('moving', 'moving', 'Moving')],
  [0x23, bin('occupancy', 'occupancy', 'Detected')],
  [0x24, bin('plug', 'pluggedIn', 'Plugged in')],
  [0x25, bin('presence', 'presence', 'Home')],
  [0x26, bin('problem', 'problem', 'Problem')],
  [0x27, bin('running', 'running', 'Running')],
  [0x28, bin('safety', 'safe', 'Safe')],
  [0x29, bin('smoke', 'smoke', 'Detected')],
  [0x2a, bin('sound', 'sound', 'Detected')],
  [0x2b, bin('tamper', 'tamper', 'On')],
  [0x2c, bin('vibration', 'vibration', 'Detected')],
  [0x2d, bin('window', 'window', 'Open')],
  [0x2e, num('humidity', 'humidityPct', u(1), '%')],
  [0x2f, num('moisture', 'moisturePct', u(1), '%')],
  [0x3a, { kind: 'button', name: 'button', key: 'button', bytes: 1 }],
  // 0x3B command: [reserved:3 | argLen:5] opcode args... (bthome.io PR #75, newer than bthome-ble 3.20).
  [0x3b, { kind: 'command', name: 'command', key: 'command' }],
  [0x3c, { kind: 'dimmer', name: 'dimmer', key: 'dimmer', bytes: 2 }],
  [0x3d, num('count', 'count', u(2))],
  [0x3e, num('count', 'count', u(4))],
  [0x3f, num('rotation', 'rotationDeg', s(2, 10), '°')],
  [0x40, num('distance', 'distanceMm', u(2), 'mm')],
  [0x41, num('distance', 'distanceM', u(2, 10), 'm')],
  [0x42, num('duration', 'durationS', u(3, 1000), 's')],
  [0x43, num('current', 'currentA', u(2, 1000), 'A')],
  [0x44, num('speed', 'speedMps', u(2, 100), 'm/s')],
  [0x45, num('temperature', 'temperatureC', s(2, 10), '°C')],
  [0x46, num('uv_index', 'uvIndex', u(1, 10))],
  [0x47, num('volume', 'volumeL', u(2, 10), 'L')],
  [0x48, num('volume', 'volumeMl', u(2), 'mL')],
  [0x49, num('volume_flow_rate', 'volumeFlowRateM3h', u(2, 1000), 'm³/h')],
  [0x4a, num('voltage', 'voltageV', u(2, 10), 'V')],
  [0x4b, num('gas', 'gasM3', u(3, 1000), 'm³')],
  [0x4c, num('gas', 'gasM3', u(4, 1000), 'm³')],
  [0x4d, num('energy', 'energyKwh', u(4, 1000), 'kWh')],
  [0x4e, num('volume', 'volumeL', u(4, 1000), 'L')],
  [0x4f, num('water', 'waterL', u(4, 1000), 'L')],
  [0x50, { kind: 'timestamp', name: 'timestamp', key: 'timestamp', bytes: 4 }],
  [0x51, num('acceleration', 'accelerationMps2', u(2, 1000), 'm/s²')],
  [0x52, num('gyroscope', 'gyroscopeDps', u(2, 1000), '°/s')],
  [0x53, { kind: 'text', name: 'text', key: 'text' }],
  [0x54, { kind: 'raw', name: 'raw', key: 'rawHex' }],
  [0x55, num('volume_storage', 'volumeStorageL', u(4, 1000), 'L')],
  [0x56, num('conductivity', 'conductivityUsCm', u(2), 'µS/cm')],
  [0x57, num('temperature', 'temperatureC', s(1), '°C')],
  [0x58, num('temperature', 'temperatureC', s(1, 100, 35), '°C')],
  [0x59, num('count', 'count', s(1))],
  [0x5a, num('count', 'count', s(2))],
  [0x5b, num('count', 'count', s(4))],
  [0x5c, num('power', 'powerW', s(4, 100), 'W')],
  [0x5d, num('current', 'currentA', s(2, 1000), 'A')],
  [0x5e, num('direction', 'directionDeg', u(2, 100), '°')],
  [0x5f, num('precipitation', 'precipitationMm', u(2, 10), 'mm')],
  [0x60, num('channel', 'channel', u(1))],
  [0x61, num('rotational_speed', 'rotationalSpeedRpm', u(2), 'rpm')],
  [0x62, num('speed', 'speedMps', s(4, 1_000_000), 'm/s')],
  [0x63, num('acceleration', 'accelerationMps2', s(4, 1_000_000), 'm/s²')],
  [0x64, num('light_level', 'lightLevel', u(1))],
  // 0x65 is in bthome.io but not in bthome-ble 3.20.0 (vector note: "parser stops at unknown
  // object id"). Its length is specified, so we follow the spec and decode it.
  [0x65, num('settings_revision', 'settingsRevision', u(1))],
  [0xf0, { kind: 'device_type', name: 'device_type_id', key: 'deviceTypeId', bytes: 2 }],
  [0xf1, { kind: 'firmware', name: 'firmware_version', key: 'firmwareVersion', bytes: 4 }],
  [0xf2, { kind: 'firmware', name: 'firmware_version', key: 'firmwareVersion', bytes: 3 }],
])

/** bthome.io "Events": button event ids. 0x00 is "None" (placeholder for multi-button devices). */
export const BUTTON_EVENTS: ReadonlyMap<number, string> = new Map([
  [0x01, 'press'],
  [0x02, 'double_press'],
  [0x03, 'triple_press'],
  [0x04, 'long_press'],
  [0x05, 'long_double_press'],
  [0x06, 'long_triple_press'],
  [0x80, 'hold_press'],
])

/** Dimmer event ids; the second byte is the number of steps. */
export const DIMMER_EVENTS: ReadonlyMap<number, string> = new Map([
  [0x01, 'rotate_left'],
  [0x02, 'rotate_right'],
])

/** Command opcodes (0x3B); 0x05-0xFF are reserved. */
export const COMMAND_OPCODES: ReadonlyMap<number, string> = new Map([
  [0x00, 'off'],
  [0x01, 'on'],
  [0x02, 'toggle'],
  [0x03, 'step_up'],
  [0x04, 'step_down'],
])
