/**
 * publishAll with a scripted mqtt.js client (the lowest layer): PUBACK outcomes that a real
 * broker cannot be made to produce on demand (0x89, 0x97, 0x95 on a batch message).
 */
import { ErrorWithReasonCode, type MqttClient } from 'mqtt'
import { describe, expect, it } from 'vitest'
import { makeEntries } from '../../../test/support/entries.js'
import { UplinkError } from '../../core/errors.js'
import type { OutMessage } from './cloudevents-binding.js'
import { MqttConnection } from './connection.js'
import { publishAll, type SendHooks } from './send-operation.js'

type Answer = number | 'never' | 'close'
/** A client whose PUBACK for the n-th publish is `answers[n]` (reason code), asynchronously. */
function scriptedClient(answers: Answer[]): { client: MqttClient; written: string[]; ended: boolean[]; peak: () => number } {
  const written: string[] = []
  const ended: boolean[] = []
  const pending: Array<(err?: Error) => void> = []
  let outstanding = 0
  let peak = 0
  const client = {
    publish(topic: string, _payload: unknown, _opts: unknown, callback: (err?: Error) => void) {
      const answer = answers[written.length] ?? 0
      written.push(topic)
      peak = Math.max(peak, ++outstanding)
      const cb = (err?: Error): void => {
        outstanding--
        callback(err)
      }
      pending.push(cb)
      if (answer === 'never') return
      if (answer === 'close') return void setImmediate(() => client.end(true))
      setImmediate(() => {
        pending.splice(pending.indexOf(cb), 1)
        cb(answer < 0x80 ? undefined : new ErrorWithReasonCode('Publish error', answer))
      })
    },
    end(force: boolean) {
      ended.push(force)
      for (const cb of pending.splice(0)) cb(new Error('Connection closed'))
    },
  }
  return { client: client as unknown as MqttClient, written, ended, peak: () => peak }
}

function messages(n: number, eventsEach = 1): OutMessage[] {
  const entries = makeEntries(n * eventsEach)
  return Array.from({ length: n }, (_, i) => ({
    topic: `t/${i}`,
    payload: '{}',
    properties: undefined,
    entries: entries.slice(i * eventsEach, (i + 1) * eventsEach),
    packetBytes: 10_000,
  }))
}

function hooks(log: string[] = []): SendHooks {
  return {
    published: () => log.push('published'),
    refused: (_m, v) => log.push(`refused:${v.reason}`),
    ackTimedOut: () => log.push('timeout'),
    batchTooLarge: () => log.push('batchTooLarge'),
  }
}

const opts = (log?: string[]) => ({ ackTimeoutMs: 5_000, hooks: hooks(log) })
const signal = new AbortController().signal

describe('publishAll', () => {
  it('returns permanently refused entries and confirms the rest (0x10 is success)', async () => {
    const { client, written } = scriptedClient([0, 0x87, 0x10, 0x99])
    const msgs = messages(4)
    const refused = await publishAll(new MqttConnection(client, undefined, undefined), msgs, signal, opts())
    expect(written).toEqual(['t/0', 't/1', 't/2', 't/3'])
    expect(refused.map((r) => [r.entry, r.reason])).toEqual([
      [msgs[1]!.entries[0], 'not_authorized'],
      [msgs[3]!.entries[0], 'payload_format_invalid'],
    ])
  })

  it.each([
    [0x89, 'server_busy'],
    [0x97, 'quota_exceeded'],
    [0x80, 'unspecified_error'],
  ])('PUBACK code %i fails the whole send as retriable %s', async (code, reason) => {
    const { client } = scriptedClient([0, code, 0])
    const err = await publishAll(new MqttConnection(client, undefined, undefined), messages(3), signal, opts()).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(UplinkError)
    expect(err).toMatchObject({ retriable: true, reason })
  })

  it('0x95 on a multi-event batch message is retriable and asks the uplink to split', async () => {
    const log: string[] = []
    const { client } = scriptedClient([0x95])
    const err = await publishAll(new MqttConnection(client, undefined, undefined), messages(1, 3), signal, opts(log)).catch((e: unknown) => e)
    expect(err).toMatchObject({ retriable: true, reason: 'packet_too_large' })
    expect(log).toContain('batchTooLarge')
  })

  it('never has more than the server Receive Maximum outstanding (MQTT-4.9.0-2), writes in order', async () => {
    const { client, written, peak } = scriptedClient([])
    const conn = new MqttConnection(client, { cmd: 'connack', sessionPresent: false, properties: { receiveMaximum: 2 } }, undefined)
    await publishAll(conn, messages(7), signal, opts())
    expect(written).toEqual(['t/0', 't/1', 't/2', 't/3', 't/4', 't/5', 't/6'])
    expect(peak()).toBe(2)
  })

  it('no PUBACK within ackTimeoutMs → retriable ack_timeout and the connection is closed', async () => {
    const log: string[] = []
    const { client, ended } = scriptedClient(['never'])
    const conn = new MqttConnection(client, undefined, undefined)
    const err = await publishAll(conn, messages(1), signal, { ackTimeoutMs: 50, hooks: hooks(log) }).catch((e: unknown) => e)
    expect(err).toMatchObject({ retriable: true, reason: 'ack_timeout' })
    expect(log).toEqual(['timeout'])
    expect(conn.closed).toBe(true)
    expect(ended).toEqual([true])
  })

  it('connection closed mid-send → retriable disconnected; queued messages are not written', async () => {
    const { client, written } = scriptedClient([0, 'never'])
    const conn = new MqttConnection(client, { cmd: 'connack', sessionPresent: false, properties: { receiveMaximum: 2 } }, undefined)
    const sending = publishAll(conn, messages(5), signal, opts())
    conn.close(new UplinkError('disconnected', 'gone', { retriable: true }))
    await expect(sending).rejects.toMatchObject({ retriable: true, reason: 'disconnected' })
    expect(written).toEqual(['t/0', 't/1'])
  })
})
