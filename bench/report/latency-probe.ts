/**
 * Latency from reading to broker, seen from a subscriber on the same host: receive time minus the
 * CloudEvent `time` (stamped by the simulator when it made the reading; same clock on loopback).
 * On loopback the broker forwards a PUBLISH to subscribers and PUBACKs the publisher within the
 * same moment, so this approximates "reading to PUBACK"; it also includes the broker's hop to the
 * subscriber and this process's event loop (both well under a millisecond when idle). `time` has
 * millisecond resolution, so figures are whole milliseconds.
 *
 * Parses structured (one event) and batch (JSON array) payloads. Prints nothing.
 */
import { connectAsync, type MqttClient } from 'mqtt'

export interface LatencyProbe {
  /** Latencies, ms, of first receipts of events with sequence > warm-up. */
  readonly latenciesMs: number[]
  /** Distinct (source, sequence) pairs received, warm-up included. */
  distinct(): number
  close(): Promise<void>
}

/**
 * Subscribes to `topicFilter` (QoS 1) and resolves once subscribed. Events whose per-device
 * `sequence` is <= `warmupSequences` (the first ticks: connection set-up, JIT) are counted but
 * not timed.
 */
export async function startLatencyProbe(url: string, topicFilter: string, warmupSequences: number): Promise<LatencyProbe> {
  const client: MqttClient = await connectAsync(url, { protocolVersion: 5, clean: true, reconnectPeriod: 0 })
  const latenciesMs: number[] = []
  const seen = new Set<string>()
  client.on('message', (_topic, payload) => {
    const now = Date.now()
    let parsed: unknown
    try {
      parsed = JSON.parse(payload.toString('utf8'))
    } catch {
      return
    }
    for (const e of (Array.isArray(parsed) ? parsed : [parsed]) as Array<{ time?: string; source?: string; sequence?: string }>) {
      const key = `${e.source}#${e.sequence}`
      if (seen.has(key)) continue
      seen.add(key)
      if (Number(e.sequence) > warmupSequences && e.time) latenciesMs.push(now - Date.parse(e.time))
    }
  })
  await client.subscribeAsync(topicFilter, { qos: 1 })
  return { latenciesMs, distinct: () => seen.size, close: () => client.endAsync(true) }
}
