import { describe, expect, it } from 'vitest'
import type { Logger } from '../core/index.js'
import { RateLimitedLog } from './rate-limited-log.js'

interface Line {
  level: string
  obj: Record<string, unknown>
  msg?: string
}

function recorder(): { log: Logger; lines: Line[] } {
  const lines: Line[] = []
  const at = (level: string) => (obj: object | string, msg?: string) =>
    lines.push({ level, obj: typeof obj === 'string' ? { msg: obj } : (obj as Record<string, unknown>), msg })
  const log: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => log }
  return { log, lines }
}

describe('RateLimitedLog', () => {
  it('writes one line per code per interval and reports the suppressed count on the next line', () => {
    const { log, lines } = recorder()
    let now = 1_000_000
    const rl = new RateLimitedLog(log, { now: () => now })
    expect(rl.warn('bad_checksum', { source: 'serial-1' }, 'bad frame')).toBe(true)
    for (let i = 0; i < 50; i++) {
      now += 100
      expect(rl.warn('bad_checksum', { source: 'serial-1' }, 'bad frame')).toBe(false)
    }
    expect(lines).toHaveLength(1)
    expect(lines[0]).toEqual({ level: 'warn', obj: { source: 'serial-1', code: 'bad_checksum' }, msg: 'bad frame' })

    now = 1_000_000 + 10_000 // exactly one default interval after the first line
    rl.warn('bad_checksum', { source: 'serial-1' }, 'bad frame')
    expect(lines).toHaveLength(2)
    expect(lines[1]!.obj).toEqual({ source: 'serial-1', code: 'bad_checksum', suppressed: 50 })

    now += 10_000
    rl.warn('bad_checksum', {}, 'bad frame')
    expect(lines[2]!.obj).toEqual({ code: 'bad_checksum' }) // nothing suppressed since: no field
  })

  it('limits each code independently and honours intervalMs', () => {
    const { log, lines } = recorder()
    let now = 0
    const rl = new RateLimitedLog(log, { intervalMs: 1000, now: () => now })
    rl.warn('a', {}, 'a')
    rl.warn('b', {}, 'b')
    rl.warn('a', {}, 'a')
    now = 999
    rl.error('b', {}, 'b')
    now = 1000
    rl.error('b', {}, 'b')
    expect(lines.map((l) => [l.level, l.obj.code, l.obj.suppressed])).toEqual([
      ['warn', 'a', undefined],
      ['warn', 'b', undefined],
      ['error', 'b', 1],
    ])
  })

  it('flush() writes pending suppressed counts once', () => {
    const { log, lines } = recorder()
    const rl = new RateLimitedLog(log, { now: () => 0 })
    rl.warn('x', {}, 'x')
    rl.warn('x', {}, 'x')
    rl.warn('x', {}, 'x')
    rl.flush()
    rl.flush()
    expect(lines.slice(1)).toEqual([{ level: 'info', obj: { code: 'x', suppressed: 2 }, msg: 'suppressed repeated log lines' }])
  })

  it('forgets the least recently logged code beyond maxCodes', () => {
    const { log, lines } = recorder()
    const rl = new RateLimitedLog(log, { now: () => 0, maxCodes: 2 })
    rl.warn('a', {}, 'a')
    rl.warn('b', {}, 'b')
    rl.warn('c', {}, 'c') // evicts 'a'
    rl.warn('a', {}, 'a') // written again at once
    rl.warn('c', {}, 'c') // still limited
    expect(lines.map((l) => l.obj.code)).toEqual(['a', 'b', 'c', 'a'])
  })
})
