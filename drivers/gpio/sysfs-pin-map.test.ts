import { mkdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { GatewayError } from '../../gateway/core/errors.js'
import { mapBcmToSysfs } from './sysfs-pin-map.js'
import {
  PI3_KERNEL_6_1,
  PI4_KERNEL_6_6,
  PI5_KERNEL_6_6,
  writeFakeGpioSysfs,
  type FakeGpioChip,
} from '../../firmware-sim/doorbell.js'

const roots: string[] = []
async function tree(chips: readonly FakeGpioChip[]): Promise<string> {
  const root = await writeFakeGpioSysfs(chips)
  roots.push(root)
  return root
}
afterEach(async () => {
  await Promise.all(roots.splice(0).map((r) => rm(r, { recursive: true, force: true })))
})

describe('mapBcmToSysfs', () => {
  it('Pi 4 on kernel >= 6.6: BCM 17 is sysfs 529 (base 512)', async () => {
    const m = await mapBcmToSysfs(17, await tree(PI4_KERNEL_6_6))
    expect(m.sysfsPin).toBe(529)
    expect(m.chip?.label).toBe('pinctrl-bcm2711')
  })

  it('Pi 5 on kernel >= 6.6: BCM 17 is sysfs 588 (pinctrl-rp1, base 571), not the first chip', async () => {
    const m = await mapBcmToSysfs(17, await tree(PI5_KERNEL_6_6))
    expect(m.sysfsPin).toBe(588)
    expect(m.chip).toMatchObject({ name: 'gpiochip571', label: 'pinctrl-rp1', base: 571 })
  })

  it('older kernel (base 0): BCM 17 is sysfs 17', async () => {
    const m = await mapBcmToSysfs(17, await tree(PI3_KERNEL_6_1))
    expect(m).toMatchObject({ sysfsPin: 17, chip: { label: 'pinctrl-bcm2835', base: 0 } })
  })

  it('falls back to base 0 when no chip carries a SoC label', async () => {
    const m = await mapBcmToSysfs(4, await tree([{ base: 0, label: 'gpio-mockup-A', ngpio: 16 }]))
    expect(m).toEqual({ sysfsPin: 4, chip: null })
  })

  it('skips a chip whose files are missing', async () => {
    const root = await tree(PI4_KERNEL_6_6)
    await mkdir(join(root, 'gpiochip600'))
    expect((await mapBcmToSysfs(2, root)).sysfsPin).toBe(514)
  })

  it('refuses a BCM pin beyond the SoC chip', async () => {
    const err = await mapBcmToSysfs(57, await tree(PI5_KERNEL_6_6)).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(GatewayError)
    expect((err as GatewayError).message).toMatch(/BCM 57 is beyond pinctrl-rp1 \(54 lines\)/)
  })

  it('a missing sysfs root is "GPIO not accessible ... (no GPIO on this machine)"', async () => {
    const err = await mapBcmToSysfs(17, join(tmpdir(), 'no-such-gpio-root')).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(GatewayError)
    expect((err as GatewayError).code).toBe('GW_ERR_HARDWARE_UNAVAILABLE')
    expect((err as GatewayError).message).toMatch(/^GPIO not accessible: .*no-such-gpio-root missing \(no GPIO on this machine\)$/)
  })
})
