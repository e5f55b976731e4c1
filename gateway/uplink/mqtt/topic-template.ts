/**
 * Topic templates: `edge/{gatewayId}/{sourceId}/{deviceId}/{type}` compiled once into literal and
 * placeholder parts, filled per event without regular expressions.
 *
 * A placeholder value always fills exactly one topic level: characters that would change the
 * topic's structure or make it invalid are replaced with `_`:
 * - `/` (level separator): a value must not add levels;
 * - `+` and `#`: wildcards are not allowed in a PUBLISH topic name (MQTT-3.3.2-2; a broker
 *   answers with 0x90 "Topic Name invalid" or drops the connection);
 * - U+0000: not allowed in any UTF-8 string (MQTT-1.5.4-2);
 * - a leading `$` on the whole topic, which brokers reserve for `$SYS` (MQTT 4.7.2).
 */

/** The values a template can refer to. */
export interface TopicFields {
  gatewayId: string
  sourceId: string
  deviceId: string
  type: string
}

type Part = { literal: string } | { field: keyof TopicFields }

const PLACEHOLDER = /\{(gatewayId|sourceId|deviceId|type)\}/g
// eslint-disable-next-line no-control-regex
const ILLEGAL_IN_LEVEL = /[/+#\u0000]/g

/** A compiled template. `render` never throws. */
export interface TopicTemplate {
  /** True when the template contains `{type}` (so callers only extract the type when needed). */
  readonly needsType: boolean
  render(fields: TopicFields): string
}

/** Makes `value` safe to use as (part of) one topic level; see the module comment. */
export function sanitizeTopicLevel(value: string): string {
  return value.replace(ILLEGAL_IN_LEVEL, '_')
}

/**
 * Compiles `template`. Unknown `{...}` sequences are kept literally (config validation already
 * refuses them); `+`/`#` in literal parts are likewise refused by the config schema.
 */
export function compileTopicTemplate(template: string): TopicTemplate {
  const parts: Part[] = []
  let last = 0
  for (const m of template.matchAll(PLACEHOLDER)) {
    if (m.index > last) parts.push({ literal: template.slice(last, m.index) })
    parts.push({ field: m[1] as keyof TopicFields })
    last = m.index + m[0].length
  }
  if (last < template.length) parts.push({ literal: template.slice(last) })
  const needsType = parts.some((p) => 'field' in p && p.field === 'type')
  return {
    needsType,
    render(fields: TopicFields): string {
      let topic = ''
      for (const p of parts) topic += 'literal' in p ? p.literal : sanitizeTopicLevel(fields[p.field])
      // Topics starting with $ are reserved for the broker (MQTT 4.7.2): never produce one.
      return topic.startsWith('$') ? '_' + topic.slice(1) : topic
    },
  }
}

/**
 * Splits a CloudEvent source of the form `/gateways/{gatewayId}/{sourceId}/{deviceId}` (as built
 * at ingest) into its parts. Returns undefined for any other shape; the caller decides what to
 * do (the uplink rejects such an entry as `invalid_event`).
 */
export function splitEventSource(source: string): Omit<TopicFields, 'type'> | undefined {
  // String splitting instead of URL parsing: this runs once per event on the hot path.
  if (!source.startsWith('/gateways/')) return undefined
  const a = source.indexOf('/', 10)
  if (a < 0) return undefined
  const b = source.indexOf('/', a + 1)
  if (b < 0) return undefined
  const gatewayId = source.slice(10, a)
  const sourceId = source.slice(a + 1, b)
  const deviceId = source.slice(b + 1)
  if (gatewayId === '' || sourceId === '' || deviceId === '') return undefined
  return { gatewayId, sourceId, deviceId }
}
