/** Events shaped like the pipeline's (structured CloudEvents of ~220 bytes), for the yardsticks. */
import { randomUUID } from 'node:crypto'

export function makeBenchEvents(n: number, devices = 100): string[] {
  const out: string[] = []
  for (let i = 0; i < n; i++) {
    const dev = `sim-${String((i % devices) + 1).padStart(4, '0')}`
    out.push(
      JSON.stringify({
        id: randomUUID(),
        time: new Date().toISOString(),
        type: 'io.edgegateway.environment',
        source: `/gateways/bench/sim/${dev}`,
        specversion: '1.0',
        datacontenttype: 'application/json',
        data: { temperatureC: 21.53, humidityPct: 45.2, batteryPct: 100, reading: i },
        sequence: String(Math.floor(i / devices) + 1).padStart(20, '0'),
      }),
    )
  }
  return out
}
