/** Config of a `simulator` source: synthetic environment sensors for demos, tests and benchmarks. */
import { z } from 'zod'
import { componentId } from '../../gateway/config/units.js'

export const simulatorSourceSchema = z.strictObject({
  type: z.literal('simulator'),
  id: componentId,
  /** Number of simulated devices. @default 3 */
  devices: z.number().int().min(1).max(100_000).default(3),
  /** Interval between readings of one device, ms; 0 = as fast as the pipeline pulls. @default 1000 */
  intervalMs: z.number().int().min(0).max(86_400_000).default(1000),
  /** Readings per device, after which that device stops. Unset = forever. */
  count: z.number().int().min(1).optional(),
  /** Every Nth reading of a device is a doorbell press (alert class); 0 = never. @default 0 */
  alertEvery: z.number().int().min(0).default(0),
  /** Extra bytes of filler in each reading's data (to test size limits and bandwidth). @default 0 */
  padBytes: z.number().int().min(0).max(1_048_576).default(0),
})

export type SimulatorSourceConfig = z.infer<typeof simulatorSourceSchema>
