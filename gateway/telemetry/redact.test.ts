import { describe, expect, it } from 'vitest'
import { REDACTED, redactLogLine, redactSecrets } from './redact.js'

const EH =
  'Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;' +
  'SharedAccessKey=q1w2e3R4t5Y6u7I8o9P0aSdFgHjKl+/ZxCvBnM12345=;EntityPath=telemetry'

describe('redactSecrets', () => {
  it('masks SharedAccessKey in an Event Hubs connection string and keeps the rest', () => {
    const out = redactSecrets(`connecting with ${EH} now`)
    expect(out).not.toContain('q1w2e3R4t5Y6')
    expect(out).toContain(`SharedAccessKey=${REDACTED};EntityPath=telemetry now`)
    expect(out).toContain('SharedAccessKeyName=RootManageSharedAccessKey')
    expect(out).toContain('Endpoint=sb://ns.servicebus.windows.net/')
  })

  it('masks the signature of a SAS token and AccountKey / Password pairs', () => {
    const sas = 'SharedAccessSignature sr=sb%3a%2f%2fns%2fhub&sig=AbCdEf%2BgHiJ%3D&se=1700000000&skn=send'
    const out = redactSecrets(`${sas}; AccountKey=abc/def==; Server=x;Password=hunter2;Database=y`)
    expect(out).not.toMatch(/AbCdEf|abc\/def|hunter2/)
    expect(out).toContain('se=1700000000&skn=send')
    expect(out).toContain('Database=y')
  })

  it('masks the password in URL user info, keeping scheme, user and host', () => {
    expect(redactSecrets('dial mqtts://gw-01:s3cr3t@broker.example.com:8883/x failed')).toBe(
      `dial mqtts://gw-01:${REDACTED}@broker.example.com:8883/x failed`,
    )
    // An unencoded '@' in the password must not leak its tail.
    expect(redactSecrets('mqtt://u:p@ss@host')).toBe(`mqtt://u:${REDACTED}@host`)
    expect(redactSecrets('mqtt://:onlypass@host')).toBe(`mqtt://:${REDACTED}@host`)
  })

  it('masks query-string tokens and Authorization values', () => {
    const out = redactSecrets('GET /x?access_token=abcdef123&y=1 Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.x')
    expect(out).not.toMatch(/abcdef123|eyJhbGci/)
    expect(out).toContain('&y=1')
  })

  it('leaves text without secrets unchanged', () => {
    for (const text of ['http://host:8080/path', 'mqtt://broker:1883', 'user@example.com', 'SharedAccessKeyName=send', '']) {
      expect(redactSecrets(text)).toBe(text)
    }
  })
})

describe('redactLogLine', () => {
  it('masks secret-named keys at any depth and keeps the line valid JSON', () => {
    const line = JSON.stringify({
      config: { uplinks: [{ id: 'cloud', auth: { password: 'p4ss"word', token: 't0k' } }] },
      url: 'mqtt://u:pw@h',
      note: 'x@y and "quoted"',
    })
    const out = redactLogLine(line)
    expect(out).not.toMatch(/p4ss|t0k|:pw@/)
    const parsed = JSON.parse(out) as { config: { uplinks: Array<{ id: string; auth: Record<string, string> }> }; note: string }
    expect(parsed.config.uplinks[0]!.auth.password).toBe(REDACTED)
    expect(parsed.config.uplinks[0]!.id).toBe('cloud')
    expect(parsed.note).toBe('x@y and "quoted"')
  })
})
