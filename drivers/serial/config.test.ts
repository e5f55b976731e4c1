import { describe, expect, it } from 'vitest'
import { serialSourceSchema } from './config.js'

const base = { type: 'serial', id: 'gps', path: '/dev/ttyUSB0', baudRate: 9600, format: 'nmea' } as const

describe('serialSourceSchema', () => {
  it('applies defaults', () => {
    expect(serialSourceSchema.parse(base)).toEqual({
      ...base, maxLineBytes: 4096, reopenMaxMs: 30_000, kind: 'environment', priority: 'telemetry',
    })
  })

  it('requires baudRate as an integer', () => {
    const { baudRate: _b, ...noBaud } = base
    expect(serialSourceSchema.safeParse(noBaud).success).toBe(false)
    expect(serialSourceSchema.safeParse({ ...base, baudRate: 9600.5 }).success).toBe(false)
  })

  it('requires csv settings with format csv, and only then', () => {
    const csv = serialSourceSchema.safeParse({ ...base, format: 'csv' })
    expect(csv.success).toBe(false)
    expect(csv.error?.issues[0]?.path).toEqual(['csv'])
    expect(serialSourceSchema.parse({ ...base, format: 'csv', csv: { columns: ['t', 'h'] } }).csv).toEqual({ columns: ['t', 'h'], delimiter: ',' })
    expect(serialSourceSchema.safeParse({ ...base, csv: { columns: ['t'] } }).success).toBe(false)
    expect(serialSourceSchema.safeParse({ ...base, format: 'csv', csv: { columns: ['t', 't'] } }).success).toBe(false)
  })

  it('accepts sizes with units and rejects unknown keys', () => {
    expect(serialSourceSchema.parse({ ...base, maxLineBytes: '8KiB' }).maxLineBytes).toBe(8192)
    expect(serialSourceSchema.safeParse({ ...base, maxLineBytes: '2GiB' }).success).toBe(false)
    expect(serialSourceSchema.safeParse({ ...base, baud: 9600 }).success).toBe(false)
    expect(serialSourceSchema.safeParse({ ...base, deviceId: 'has space' }).success).toBe(false)
  })
})
