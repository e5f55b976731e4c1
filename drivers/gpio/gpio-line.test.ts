import { existsSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { GatewayError } from '../../gateway/core/errors.js'
import { describeGpioError, openOnoffLine } from './gpio-line.js'

const hasSysfsGpio = existsSync('/sys/class/gpio/export')

describe('openOnoffLine (real onoff)', () => {
  // On a machine without sysfs GPIO (CI, this dev box) the real path must refuse cleanly.
  it.skipIf(hasSysfsGpio)('rejects with GW_ERR_HARDWARE_UNAVAILABLE when GPIO is not accessible', async () => {
    const err = await openOnoffLine(17, { edge: 'both', activeLow: false }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(GatewayError)
    expect((err as GatewayError).code).toBe('GW_ERR_HARDWARE_UNAVAILABLE')
    expect((err as GatewayError).message).toMatch(/^GPIO not accessible: \/sys\/class\/gpio\/export cannot be opened/)
  })
})

describe('describeGpioError', () => {
  const errno = (code: string) => Object.assign(new Error(code), { code })
  it.each([
    ['ENOENT', /\/sys\/class\/gpio missing \(no GPIO on this machine\)/],
    ['EACCES', /permission denied .*"gpio" group/],
    ['EINVAL', /refused to export sysfs pin 17 \(EINVAL/],
    ['EBUSY', /sysfs pin 17 is claimed by another driver/],
  ])('%s', (code, re) => {
    expect(describeGpioError(errno(code), 17)).toMatch(re)
  })
  it('passes through a hardware-unavailable GatewayError', () => {
    const e = new GatewayError('GW_ERR_HARDWARE_UNAVAILABLE', 'GPIO not accessible: x')
    expect(describeGpioError(e)).toBe('GPIO not accessible: x')
  })
})
