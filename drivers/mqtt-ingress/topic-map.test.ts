import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { TopicMap, compileTopicPattern, matchTopic, topicPatternError } from './topic-map.js'

describe('matchTopic', () => {
  const m = (p: string, t: string) => matchTopic(compileTopicPattern(p), t)
  it.each([
    ['sensors/+/env', 'sensors/a1/env', ['a1']],
    ['sensors/+/env', 'sensors/a1/env/x', null],
    ['sensors/+/env', 'sensors//env', ['']], // + matches an empty level
    ['sensors/#', 'sensors/a/b/c', ['a/b/c']],
    ['sensors/#', 'sensors', ['']], // parent match, MQTT-4.7.1-2
    ['#', 'a/b', ['a/b']],
    ['#', '$SYS/x', null], // MQTT-4.7.2-1
    ['+/x', '$SYS/x', null],
    ['$SYS/+', '$SYS/x', ['x']],
    ['a/b', 'a/b', []],
    ['a/b', 'a/c', null],
    ['+/+', 'a', null],
  ])('%s vs %s', (p, t, want) => {
    expect(m(p, t)).toEqual(want)
  })

  it.each(['a/#/b', 'a#', 'a/b+', '', '+a'])('rejects pattern %j', (p) => {
    expect(topicPatternError(p)).toBeDefined()
    expect(() => compileTopicPattern(p)).toThrow(TypeError)
  })
})

/** Reference matcher written independently, as a regular expression. */
function oracle(pattern: string, topic: string): string[] | null {
  if (topic.startsWith('$') && /^[+#]/.test(pattern)) return null
  const levels = pattern.split('/')
  let re = ''
  levels.forEach((l, i) => {
    const sep = i === 0 ? '' : '/'
    if (l === '#') re += i === 0 ? '(.*)' : `(?:/(.*))?`
    else if (l === '+') re += `${sep}([^/]*)`
    else re += sep + l.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  })
  const m = new RegExp(`^${re}$`, 's').exec(topic)
  return m ? m.slice(1).map((c) => c ?? '') : null
}

const level = fc.constantFrom('a', 'b', 'dev1', '', '$SYS', 'x.y', 'ü', '+', '#')
const topicLevel = fc.constantFrom('a', 'b', 'dev1', '', '$SYS', 'x.y', 'ü', 'a b')
const pattern = fc
  .array(level, { minLength: 1, maxLength: 5 })
  .map((ls) => ls.map((l, i) => (l === '#' && i !== ls.length - 1 ? '+' : l)).join('/'))
  .filter((p) => p !== '')
const topic = fc.array(topicLevel, { minLength: 1, maxLength: 6 }).map((ls) => ls.join('/'))

describe('matchTopic (property)', () => {
  it('agrees with a regex oracle on random patterns and topics', () => {
    fc.assert(
      fc.property(pattern, topic, (p, t) => {
        expect(matchTopic(compileTopicPattern(p), t)).toEqual(oracle(p, t))
      }),
      { numRuns: 2000 },
    )
  })

  it('a topic built from a pattern matches it, capturing what was substituted', () => {
    const arb = fc.array(fc.tuple(level, fc.array(topicLevel, { minLength: 1, maxLength: 3 })), { minLength: 1, maxLength: 5 })
    fc.assert(
      fc.property(arb, (parts) => {
        const cleaned = parts.map(([l, fill], i) => [l === '#' && i !== parts.length - 1 ? '+' : l, fill] as const)
        const pat = cleaned.map(([l]) => l).join('/')
        if (pat === '') return
        const expected: string[] = []
        const levels = cleaned.map(([l, fill]) => {
          if (l === '+') return expected.push(fill[0]!), fill[0]!
          if (l === '#') return expected.push(fill.join('/')), fill.join('/')
          return l
        })
        const t = levels.join('/')
        if (t.startsWith('$') && /^[+#]/.test(pat)) return // MQTT-4.7.2-1 excludes these
        expect(matchTopic(compileTopicPattern(pat), t)).toEqual(expected)
      }),
    )
  })

  it('never throws on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (p, t) => {
        if (topicPatternError(p)) return
        matchTopic(compileTopicPattern(p), t)
      }),
    )
  })
})

describe('TopicMap', () => {
  const map = new TopicMap([
    { pattern: 'sensors/+/env', deviceId: '{1}', kind: 'environment', priority: 'telemetry' },
    { pattern: 'doorbell/+', kind: 'doorbell.press', priority: 'alert' },
    { pattern: 'tele/+/+', deviceId: 'tasmota-{1}', kind: '{2}', priority: 'telemetry' },
    { pattern: 'users/#', deviceId: '{username}', kind: 'misc', priority: 'telemetry' },
  ])
  it('renders captures into device id and kind; first rule wins', () => {
    expect(map.resolve('sensors/esp32-a1/env', {})).toMatchObject({ ok: true, deviceId: 'esp32-a1', kind: 'environment' })
    expect(map.resolve('tele/plug1/state', {})).toMatchObject({ ok: true, deviceId: 'tasmota-plug1', kind: 'state' })
    expect(map.resolve('users/x/y', { username: 'bob' })).toMatchObject({ deviceId: 'bob' })
  })
  it('falls back to the device id when the rule has no template', () => {
    expect(map.resolve('doorbell/front', { fallbackDeviceId: 'front-door' })).toEqual({
      ok: true, deviceId: 'front-door', kind: 'doorbell.press', priority: 'alert', rule: 'doorbell/+',
    })
  })
  it('refuses ids and kinds that are not identifiers', () => {
    expect(map.resolve('sensors//env', {}).ok).toBe(false)
    expect(map.resolve('sensors/a b/env', {}).ok).toBe(false)
    expect(map.resolve('tele/p/State', {}).ok).toBe(false)
    expect(map.resolve('nothing/here', {})).toEqual({ ok: false, message: 'no topicMap rule matches' })
  })
  it('never throws and only yields valid ids (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), fc.option(fc.string(), { nil: undefined }), (t, u) => {
        const r = map.resolve(t, { username: u, fallbackDeviceId: u })
        if (r.ok) expect(r.deviceId).toMatch(/^[A-Za-z0-9._:-]{1,128}$/)
      }),
    )
  })
})
