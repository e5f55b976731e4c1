/**
 * The whole config file as one strict zod schema. Validated once at startup; components get their
 * parsed slice through their constructors (no global settings object).
 *
 * Parsed shape (`GatewayConfig`): units are already numbers, every default is filled in:
 *   gateway  { id, dataDir }
 *   store    { maxBytes (bytes), maxAge (MILLISECONDS), whenFull }
 *   ingest   { maxPending, maxChunk }                 (always present)
 *   sources  SourceConfig[]                           (may be empty)
 *   uplinks  UplinkConfig[]                           (at least one)
 *   admin    { enabled, listen ("host:port"), host, port }
 *   log      { level, pretty? }
 */
import { z } from 'zod'
import { sourceConfigSchema, uplinkConfigSchema } from './component-types.js'
import {
  adminSectionSchema,
  gatewaySectionSchema,
  ingestSectionSchema,
  logSectionSchema,
  storeSectionSchema,
} from './sections.js'

/** The config file, strict at every level. See deploy/README.md for the reference. */
export const gatewayConfigSchema = z
  .strictObject({
    gateway: gatewaySectionSchema,
    // prefault (not default): the `{}` goes through the section schema, so its defaults apply.
    store: storeSectionSchema.prefault({}),
    ingest: ingestSectionSchema.prefault({}),
    sources: z.array(sourceConfigSchema).default([]),
    uplinks: z
      .array(uplinkConfigSchema)
      .min(1, 'at least one uplink is needed (events leave the store only when an uplink confirms them)'),
    admin: adminSectionSchema.prefault({}),
    log: logSectionSchema.prefault({}),
  })
  // when: run even if other keys are invalid, so duplicate ids are reported with everything else.
  .superRefine(checkUniqueIds, { when: () => true })

/** The validated config, as components receive it. */
export type GatewayConfig = z.output<typeof gatewayConfigSchema>
/** The config as written in the file (units as strings, defaults optional). */
export type GatewayConfigInput = z.input<typeof gatewayConfigSchema>
/** One parsed `sources[]` entry (a union on `type`). */
export type SourceConfig = GatewayConfig['sources'][number]
/** One parsed `uplinks[]` entry (a union on `type`). */
export type UplinkConfig = GatewayConfig['uplinks'][number]

/** Ids name store cursors, metric labels and topics: two entries with one id would share them. */
function checkUniqueIds(value: unknown, ctx: z.RefinementCtx): void {
  for (const [key, kind] of [['sources', 'source'], ['uplinks', 'uplink']] as const) {
    const list = (value as Record<string, unknown> | null)?.[key]
    if (!Array.isArray(list)) continue
    const firstIndex = new Map<string, number>()
    list.forEach((entry: unknown, i) => {
      const id = (entry as { id?: unknown } | null)?.id
      if (typeof id !== 'string') return
      const first = firstIndex.get(id)
      if (first === undefined) firstIndex.set(id, i)
      else ctx.addIssue({ code: 'custom', path: [key, i, 'id'], message: `duplicate ${kind} id "${id}" (also ${key}.${first}.id)` })
    })
  }
}
