/**
 * An embedded MQTT 3.1.1 broker (aedes) on loopback for the demo: the "cloud" the demo forwards
 * to, so `npm start` needs nothing installed. Prefers a well-known port so the printed
 * mosquitto_sub command is stable, and falls back to any free port when it is taken.
 */
import net from 'node:net'
import { Aedes } from 'aedes'

export interface DemoBroker {
  port: number
  url: string
  close(): Promise<void>
}

export async function startDemoBroker(opts: { preferredPort?: number } = {}): Promise<DemoBroker> {
  const broker = await Aedes.createBroker()
  const server = net.createServer(broker.handle)
  const port = await listen(server, opts.preferredPort ?? 0).catch(() => listen(server, 0))
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        broker.close(() => server.close(() => resolve()))
      }),
  }
}

function listen(server: net.Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err)
    server.once('error', onError)
    server.listen(port, '127.0.0.1', () => {
      server.off('error', onError)
      resolve((server.address() as net.AddressInfo).port)
    })
  })
}
