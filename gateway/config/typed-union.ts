/**
 * A union of component configs told apart by their `type` key, with an error an operator can act
 * on when the type is missing or unknown (zod's default is "Invalid discriminator value").
 */
import { z } from 'zod'
import type { $ZodTypeDiscriminable } from 'zod/v4/core'

/**
 * `z.discriminatedUnion('type', options)` whose "no option matched" issue reads
 * `unknown uplink type "foo" (expected one of: mqtt)` (path: `....type`).
 * Options may carry refinements (`.superRefine`): in zod 4 those stay object schemas.
 *
 * @param kind What the entries are, for messages: `source`, `uplink`.
 */
export function typedUnion<const Options extends readonly [$ZodTypeDiscriminable, ...$ZodTypeDiscriminable[]]>(
  kind: string,
  options: Options,
) {
  return z.discriminatedUnion('type', options, {
    error: (iss) => {
      if (iss.code !== 'invalid_union') return undefined
      const known = ((iss as { options?: unknown[] }).options ?? []).join(', ')
      const input = iss.input as { type?: unknown } | undefined
      const type = input?.type
      if (type === undefined) return `required (one of: ${known})`
      const shown = (JSON.stringify(type) ?? String(type)).slice(0, 40)
      return `unknown ${kind} type ${shown} (expected one of: ${known})`
    },
  })
}
