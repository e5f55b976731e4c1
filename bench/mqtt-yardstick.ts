/**
 * Yardstick for the MQTT uplink: how fast a plain mqtt.js QoS 1 publisher (MQTT 5, one event per
 * message, a fixed window of messages in flight) gets PUBACKs from the same broker. The durable
 * pipeline is judged against this figure in the same run. Prints nothing.
 */
import { connectAsync } from 'mqtt'

/**
 * Publishes every string in `events` (one per PUBLISH, QoS 1, topic `bench/yardstick`) keeping
 * up to `inFlight` un-acknowledged, and resolves when every PUBACK arrived. Rejects on the first
 * publish error or connection failure. The window deliberately ignores the broker's Receive
 * Maximum: this is the naive client the uplink is compared with.
 */
export async function plainPublisherYardstick(url: string, events: string[], inFlight = 100): Promise<{ eventsPerSec: number }> {
  const client = await connectAsync(url, { protocolVersion: 5, clean: true, reconnectPeriod: 0 })
  try {
    const started = process.hrtime.bigint()
    await new Promise<void>((resolve, reject) => {
      let next = 0
      let acked = 0
      let failed = false
      const onClose = (): void => fail(new Error('connection closed during the yardstick'))
      const fail = (err: Error): void => {
        if (failed) return
        failed = true
        client.off('close', onClose)
        reject(err)
      }
      client.on('close', onClose)
      const publishNext = (): void => {
        const payload = events[next++]!
        client.publish('bench/yardstick', payload, { qos: 1 }, (err) => {
          if (err) return fail(err)
          if (++acked === events.length) {
            client.off('close', onClose)
            return resolve()
          }
          if (next < events.length && !failed) publishNext()
        })
      }
      if (events.length === 0) return resolve()
      while (next < Math.min(inFlight, events.length)) publishNext()
    })
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    return { eventsPerSec: events.length / seconds }
  } finally {
    await client.endAsync(true)
  }
}
