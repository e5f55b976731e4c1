import { createTracingClient } from '@azure/core-tracing'
import { describe, expect, it } from 'vitest'
import { eventHubsUplinkSchema } from './config.js'
import { createProducerClient } from './producer-client.js'
import { quietInstrumenter } from './quiet-tracing.js'

describe('quiet Azure SDK tracing', () => {
  it('is what the SDK traces with once a producer was created: the same span and context every time', async () => {
    const config = eventHubsUplinkSchema.parse({ type: 'eventhubs', id: 'eh', connectionString: 'Endpoint=sb://127.0.0.1:1/;SharedAccessKeyName=k;SharedAccessKey=x;EntityPath=hub;UseDevelopmentEmulator=true' })
    const producer = createProducerClient(config, {})
    try {
      // The SDK's own tracing client (as EventDataBatch.tryAdd uses it), through the shared state.
      const client = createTracingClient({ namespace: 'Microsoft.EventHub', packageName: '@azure/event-hubs' })
      const first = client.startSpan('message', {})
      const second = client.startSpan('message', {})
      expect(first.span.isRecording()).toBe(false)
      expect(second.span).toBe(first.span)
      const context = first.updatedOptions.tracingOptions!.tracingContext!
      expect(second.updatedOptions.tracingOptions!.tracingContext).toBe(context)
      expect(client.createRequestHeaders(context)).toEqual({})
      expect(client.withContext(context, (a: number, b: number) => a + b, 2, 3)).toBe(5)
    } finally {
      await producer.close()
    }
  })

  it('keeps contexts immutable: setting or deleting a value gives a new context and leaves the old one', () => {
    const key = Symbol('k')
    const root = quietInstrumenter.startSpan('s', { packageName: 'p' }).tracingContext
    const withValue = root.setValue(key, 'v')
    expect(root.getValue(key)).toBeUndefined()
    expect(withValue.getValue(key)).toBe('v')
    expect(root.setValue(key, 'v')).toBe(withValue) // a child already seen is reused
    const other = root.setValue(key, 'w')
    expect(other.getValue(key)).toBe('w')
    const without = withValue.deleteValue(key)
    expect(without.getValue(key)).toBeUndefined()
    expect(withValue.getValue(key)).toBe('v')
    // A span's context is its parent's when one is given.
    expect(quietInstrumenter.startSpan('s', { packageName: 'p', tracingContext: withValue }).tracingContext).toBe(withValue)
  })

  it('keeps at most a bounded number of derived contexts, however many values are set', () => {
    const key = Symbol('many')
    const root = quietInstrumenter.startSpan('s', { packageName: 'p' }).tracingContext
    const children = Array.from({ length: 200 }, (_, i) => root.setValue(key, i))
    children.forEach((child, i) => expect(child.getValue(key)).toBe(i))
    // Beyond the memo's bound a context is built afresh every time (not kept).
    expect(root.setValue(key, 199)).not.toBe(children[199])
  })
})
