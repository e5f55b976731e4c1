/**
 * BCM pin number → sysfs GPIO number.
 *
 * sysfs numbers are global: `chip base + line offset`. Before Linux 6.6 the Pi's SoC chip had base 0,
 * so BCM 17 was sysfs 17. Since 6.6 bases are allocated dynamically from 512 (Pi 4: 512, Pi 5:
 * 571), and exporting "17" fails with EINVAL. So we find the SoC's own gpiochip by its `label` and
 * add its `base`.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { gpioUnavailable } from './gpio-line.js'

/** Labels of the chip that carries the 40-pin header's GPIOs, per SoC. */
export const SOC_GPIO_LABELS: readonly string[] = [
  'pinctrl-bcm2835', // Pi 1, 2, 3, Zero (and Pi 4 on some older kernels)
  'pinctrl-bcm2711', // Pi 4, 400, CM4
  'pinctrl-rp1', // Pi 5: header GPIOs live on the RP1 south bridge
]

/** @default "/sys/class/gpio" */
export const DEFAULT_SYSFS_GPIO_ROOT = '/sys/class/gpio'

export interface GpioChipInfo {
  /** Directory name, e.g. `gpiochip512`. */
  name: string
  label: string
  base: number
  ngpio: number
}

export interface SysfsPinMapping {
  sysfsPin: number
  /** The chip used; null when no SoC chip was found and base 0 was assumed. */
  chip: GpioChipInfo | null
}

/** Reads every `gpiochip*` under `root`. Chips whose files cannot be read are skipped. */
export async function listGpioChips(root: string): Promise<GpioChipInfo[]> {
  const names = (await readdir(root)).filter((n) => /^gpiochip\d+$/.test(n))
  const chips: GpioChipInfo[] = []
  for (const name of names) {
    try {
      const [label, base, ngpio] = await Promise.all(
        ['label', 'base', 'ngpio'].map(async (f) => (await readFile(join(root, name, f), 'utf8')).trim()),
      )
      chips.push({ name, label: label!, base: Number(base), ngpio: Number(ngpio) })
    } catch {
      // A half-registered chip (race with a driver probing) is not the SoC chip; ignore it.
    }
  }
  return chips.filter((c) => Number.isInteger(c.base) && Number.isInteger(c.ngpio))
}

/**
 * Maps a BCM number to its sysfs number under `root`.
 *
 * Rejects with `GW_ERR_HARDWARE_UNAVAILABLE` when `root` does not exist ("no GPIO on this
 * machine") or cannot be read, and when `bcmPin` is beyond the SoC chip's `ngpio`. When no chip
 * carries a known SoC label, falls back to base 0 (pre-6.6 kernels and non-Pi boards numbered
 * that way), reported as `chip: null`.
 */
export async function mapBcmToSysfs(bcmPin: number, root: string = DEFAULT_SYSFS_GPIO_ROOT): Promise<SysfsPinMapping> {
  let chips: GpioChipInfo[]
  try {
    chips = await listGpioChips(root)
  } catch (err) {
    const code = (err as { code?: string }).code
    if (code === 'ENOENT') {
      throw gpioUnavailable(`GPIO not accessible: ${root} missing (no GPIO on this machine)`, err)
    }
    throw gpioUnavailable(`GPIO not accessible: cannot read ${root} (${code ?? (err as Error).message})`, err)
  }
  const soc = chips.find((c) => SOC_GPIO_LABELS.includes(c.label))
  if (!soc) return { sysfsPin: bcmPin, chip: null }
  if (bcmPin >= soc.ngpio) {
    throw gpioUnavailable(`GPIO not accessible: BCM ${bcmPin} is beyond ${soc.label} (${soc.ngpio} lines)`)
  }
  return { sysfsPin: soc.base + bcmPin, chip: soc }
}
