import { describe, expect, it } from 'vitest'
import { eventHubsUplinkSchema } from '../gateway/uplink/eventhubs/config.js'

const CS = 'Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=abc='
const keyFields = {
  fullyQualifiedNamespace: 'ns.servicebus.windows.net',
  eventHubName: 'telemetry',
  sharedAccessKeyName: 'send',
  sharedAccessKey: 'abc=',
}

function messages(input: unknown): string[] {
  const r = eventHubsUplinkSchema.safeParse(input)
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)
}

describe('eventHubsUplinkSchema', () => {
  it('fills the documented defaults', () => {
    const c = eventHubsUplinkSchema.parse({ type: 'eventhubs', id: 'eh', connectionString: `${CS};EntityPath=hub` })
    expect(c).toMatchObject({
      partitionKey: '{source}', mode: 'binary', maxEvents: 4000, maxBytes: 2 * 1024 * 1024, lingerMs: 50, maxInFlight: 2,
      sendTimeoutMs: 30_000, retryMaxMs: 30_000,
    })
  })

  it('batch mode: batchMessageBytes defaults to 64 KiB and stays within 1 KiB-1 MiB', () => {
    const base = { type: 'eventhubs', id: 'eh', connectionString: `${CS};EntityPath=hub`, mode: 'batch' }
    expect(eventHubsUplinkSchema.parse(base)).toMatchObject({ mode: 'batch', batchMessageBytes: 65536 })
    expect(eventHubsUplinkSchema.parse({ ...base, batchMessageBytes: '256KiB' }).batchMessageBytes).toBe(262144)
    expect(messages({ ...base, batchMessageBytes: 100 })).toEqual(['batchMessageBytes: batchMessageBytes must be at least 1KiB'])
    expect(messages({ ...base, batchMessageBytes: '2MiB' })).toEqual(['batchMessageBytes: batchMessageBytes must be at most 1MiB'])
  })

  it('accepts a namespace connection string plus eventHubName, and the key fields', () => {
    expect(messages({ type: 'eventhubs', id: 'eh', connectionString: CS, eventHubName: 'hub' })).toEqual([])
    expect(messages({ type: 'eventhubs', id: 'eh', ...keyFields })).toEqual([])
    expect(messages({ type: 'eventhubs', id: 'eh', connectionString: `${CS};EntityPath=hub`, eventHubName: 'hub' })).toEqual([])
  })

  it('needs eventHubName when the connection string has no EntityPath', () => {
    expect(messages({ type: 'eventhubs', id: 'eh', connectionString: CS })).toEqual([
      'eventHubName: eventHubName is required when the connection string has no EntityPath',
    ])
  })

  it('refuses both ways at once, neither, or half of the key fields', () => {
    expect(messages({ type: 'eventhubs', id: 'eh', connectionString: `${CS};EntityPath=hub`, sharedAccessKey: 'x' })[0])
      .toMatch(/either connectionString or .* not both/)
    expect(messages({ type: 'eventhubs', id: 'eh' })[0]).toMatch(/set connectionString, or fullyQualifiedNamespace/)
    expect(messages({ type: 'eventhubs', id: 'eh', fullyQualifiedNamespace: 'ns.servicebus.windows.net' })[0])
      .toBe('sharedAccessKeyName: without connectionString, also set: sharedAccessKeyName, sharedAccessKey, eventHubName')
  })

  it('refuses a contradicting hub name, a malformed connection string and an sb:// namespace', () => {
    expect(messages({ type: 'eventhubs', id: 'eh', connectionString: `${CS};EntityPath=a`, eventHubName: 'b' })[0]).toMatch(/contradicts/)
    expect(messages({ type: 'eventhubs', id: 'eh', connectionString: 'nonsense', eventHubName: 'b' })[0]).toMatch(/Endpoint=sb:/)
    expect(messages({ type: 'eventhubs', id: 'eh', ...keyFields, fullyQualifiedNamespace: 'sb://ns/' })[0]).toMatch(/no sb:\/\/ prefix/)
  })

  it('validates partition key placeholders, mode and unknown keys', () => {
    const base = { type: 'eventhubs', id: 'eh', connectionString: `${CS};EntityPath=hub` }
    expect(messages({ ...base, partitionKey: '{gatewayId}/{deviceId}' })).toEqual([])
    expect(messages({ ...base, partitionKey: '{topic}' })[0]).toMatch(/unknown placeholder \{topic\}/)
    expect(messages({ ...base, mode: 'batched' })).toHaveLength(1)
    expect(messages({ ...base, qos: 1 })).toHaveLength(1)
  })

  it('parses sizes with units', () => {
    const c = eventHubsUplinkSchema.parse({ type: 'eventhubs', id: 'eh', ...keyFields, maxBytes: '256KiB' })
    expect(c.maxBytes).toBe(256 * 1024)
  })
})
