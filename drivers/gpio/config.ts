/** Config of a `gpio` source: one input pin (doorbell button, door contact) read through sysfs. */
import { z } from 'zod'
import { componentId } from '../../gateway/config/units.js'

/** Same alphabet as `Reading.deviceId`. */
const deviceId = z
  .string()
  .regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be 1-128 characters of A-Z a-z 0-9 . _ : -')

/** Dotted lower-case suffix of the CloudEvent type, e.g. `doorbell.press`, `contact.change`. */
const readingKind = z
  .string()
  .regex(/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/, 'must be dotted lower-case words, e.g. "doorbell.press"')

export const gpioSourceSchema = z.strictObject({
  type: z.literal('gpio'),
  id: componentId,
  /**
   * BCM GPIO number as printed on pinout diagrams (GPIO17 = physical pin 11), NOT the sysfs number:
   * the driver maps it through the SoC gpiochip's `base` (512 on Pi 4, 571 on Pi 5 with kernel >= 6.6).
   */
  pin: z.number().int().min(0).max(57),
  /**
   * Which logical edges become readings. `both` also reports releases (`pressed: false`), which a
   * door contact needs; a doorbell usually wants `rising`. @default both
   */
  edge: z.enum(['rising', 'falling', 'both']).default('both'),
  /**
   * Invert the line in the kernel so that "pressed" reads 1. Set this for a button that pulls the
   * pin to ground against a pull-up (the usual Pi wiring); `rising` is then the press. @default false
   */
  activeLow: z.boolean().default(false),
  /**
   * Quiet time that ends a burst of contact bounce, ms. The first edge of a burst is reported at
   * once; edges until the line was quiet this long are counted as `bounce`. 0 disables. @default 50
   */
  debounceMs: z.number().int().min(0).max(10_000).default(50),
  /** Device identity in the readings. @default the source `id` */
  deviceId: deviceId.optional(),
  /** Reading kind. @default "doorbell.press" */
  kind: readingKind.default('doorbell.press'),
})

export type GpioSourceConfig = z.infer<typeof gpioSourceSchema>
