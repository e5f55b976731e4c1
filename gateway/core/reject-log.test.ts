import { describe, expect, it } from 'vitest'
import { RecordingCounters, silentLogger, type Logger } from './observability.js'
import { RejectLog } from './reject-log.js'

describe('RejectLog', () => {
  it('counts every rejection but logs each reason at most once per interval, with the suppressed count', () => {
    const lines: unknown[] = []
    const log: Logger = { ...silentLogger, warn: (obj) => void lines.push(obj) }
    const counters = new RecordingCounters()
    let now = 0
    const r = new RejectLog(log, counters, 'src', 1000, () => now)
    for (let i = 0; i < 5; i++) r.reject('invalid_json', { bytes: 3 }, 'bad')
    r.reject('oversize', {}, 'big')
    now = 1000
    r.reject('invalid_json', {}, 'bad')
    expect(counters.get('src', 'invalid_json')).toBe(6)
    expect(lines).toEqual([
      { code: 'GW_ERR_INPUT_REJECTED', reason: 'invalid_json', suppressed: 0, bytes: 3 },
      { code: 'GW_ERR_INPUT_REJECTED', reason: 'oversize', suppressed: 0 },
      { code: 'GW_ERR_INPUT_REJECTED', reason: 'invalid_json', suppressed: 4 },
    ])
  })
})
