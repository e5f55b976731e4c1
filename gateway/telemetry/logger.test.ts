import { Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import type { Logger } from '../core/index.js'
import { createLogger } from './logger.js'
import { formatPrettyLine } from './pretty-destination.js'

/** A memory destination: every line pino writes, in order. */
function memory(): { stream: Writable; text: () => string; records: () => Array<Record<string, unknown>> } {
  const chunks: string[] = []
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      chunks.push(chunk.toString())
      cb()
    },
  })
  const text = (): string => chunks.join('')
  return { stream, text, records: () => text().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) }
}

const PASSWORD = 'Tr0ub4dor&3-very-secret'
const SAK = 'q1w2e3R4t5Y6u7I8o9P0aSdFgHjKl+/ZxCvBnM12345='
const CONN = `Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=${SAK};EntityPath=hub`

describe('createLogger redaction', () => {
  it('never writes a password or connection string passed in objects, strings, bindings or errors', () => {
    const mem = memory()
    const root = createLogger({ level: 'debug', destination: mem.stream })
    const log = root.child({ component: 'uplink', connectionString: CONN })
    log.info({ password: PASSWORD, connectionString: CONN }, 'top-level keys')
    log.info({ uplink: { password: PASSWORD, connectionString: CONN, sharedAccessKey: SAK } }, 'one level down')
    log.info({ config: { uplinks: [{ auth: { password: PASSWORD } }] } }, 'deeply nested')
    log.warn({ url: `mqtts://gw:${PASSWORD}@broker:8883` }, `connect to mqtts://gw:${PASSWORD}@broker:8883 failed`)
    log.warn(`using connection string ${CONN}`)
    log.error({ err: new Error(`open failed for ${CONN}`) }, 'uplink failed')
    log.info({ headers: { authorization: 'Basic dXNlcjpwYXNzd29yZA==' }, key: 'k', token: 't' }, 'auth')

    const out = mem.text()
    expect(out).not.toContain(PASSWORD)
    expect(out).not.toContain(SAK)
    expect(out).not.toContain('dXNlcjpwYXNzd29yZA')
    const records = mem.records()
    expect(records).toHaveLength(7)
    expect(records[0]).toMatchObject({ component: 'uplink', password: '[Redacted]', connectionString: '[Redacted]', msg: 'top-level keys' })
    expect(records[3]!.msg).toBe('connect to mqtts://gw:[Redacted]@broker:8883 failed')
    expect(records[5]!.err).toMatchObject({ type: 'Error' })
    expect(records[6]).toMatchObject({ key: '[Redacted]', token: '[Redacted]', headers: { authorization: '[Redacted]' } })
  })

  it('respects the level and keeps ordinary fields', () => {
    const mem = memory()
    const log = createLogger({ level: 'warn', destination: mem.stream })
    log.info('hidden')
    log.warn({ bytes: 217, source: 'sim' }, 'kept')
    expect(mem.records()).toEqual([expect.objectContaining({ level: 40, bytes: 217, source: 'sim', msg: 'kept' })])
  })

  it('is assignable to the core Logger interface', () => {
    const log: Logger = createLogger({ level: 'silent', destination: memory().stream })
    expect(() => log.child({ component: 'x' }).info({ a: 1 }, 'ok')).not.toThrow()
  })

  it('pretty mode writes one readable, still-redacted line', () => {
    const mem = memory()
    const log = createLogger({ level: 'info', pretty: true, destination: mem.stream })
    log.child({ component: 'serial-1' }).warn({ code: 'bad_checksum', password: PASSWORD }, 'bad frame')
    const line = mem.text()
    expect(line).toMatch(/^\d\d:\d\d:\d\d\.\d{3} WARN  \[serial-1\] bad frame code=bad_checksum password=\[Redacted\]\n$/)
  })
})

describe('formatPrettyLine', () => {
  it('passes non-JSON through and indents stacks', () => {
    expect(formatPrettyLine('plain')).toBe('plain\n')
    const line = formatPrettyLine(JSON.stringify({ level: 50, time: 0, msg: 'boom', err: { stack: 'Error: x\n    at y' } }))
    expect(line).toBe('00:00:00.000 ERROR boom\n    Error: x\n        at y\n')
  })
})
