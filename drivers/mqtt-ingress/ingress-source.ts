/**
 * `mqtt` source: listens for sensors (MQTT 3.1.1 over TCP) and turns their JSON publishes into
 * readings. See ingress-broker.ts for the ack contract (PUBACK only after the store commit) and
 * the refusal policy; packet-size-guard.ts for the memory bound per connection.
 *
 * A port that cannot be bound (in use, privileged) is a state, not a crash: the source reports
 * `unavailable` with the reason, logs once, and `run` waits for `signal` so the rest of the
 * gateway runs.
 */
import net from 'node:net'
import type { ReadingSink, Source, SourceHealth } from '../../gateway/core/types.js'
import type { InputCounters, Logger } from '../../gateway/core/observability.js'
import { aborted } from '../../gateway/core/abort.js'
import type { MqttIngressSourceConfig } from './config.js'
import { DeviceDirectory } from './device-directory.js'
import { TopicMap } from './topic-map.js'
import { RejectLog } from '../../gateway/core/reject-log.js'
import { GuardedConnection } from './packet-size-guard.js'
import { IngressBroker } from './ingress-broker.js'

export interface MqttIngressDeps {
  log: Logger
  counters: InputCounters
}

/** Bytes a PUBLISH adds around its payload at most: topic (2 + 65535) and packet id (2). */
const PUBLISH_OVERHEAD_BYTES = 65_539

export class MqttIngressSource implements Source {
  readonly type = 'mqtt'
  readonly id: string
  private readonly log: Logger
  private state: SourceHealth = { state: 'starting' }
  private bound: net.AddressInfo | undefined
  private broker: IngressBroker | undefined
  private readonly readyWaiters: Array<(h: SourceHealth) => void> = []

  private readonly directory: DeviceDirectory
  private readonly topicMap: TopicMap

  /**
   * Compiles the device ACLs and topic rules (pure, no I/O). Throws TypeError for an invalid topic
   * pattern, which only a config that bypassed `mqttIngressSourceSchema` can contain.
   */
  constructor(
    private readonly config: MqttIngressSourceConfig,
    private readonly deps: MqttIngressDeps,
  ) {
    this.id = config.id
    this.log = deps.log.child({ component: config.id, source: 'mqtt' })
    this.directory = new DeviceDirectory(config.devices)
    this.topicMap = new TopicMap(config.topicMap)
  }

  health(): SourceHealth {
    if (this.state.state === 'running' && this.bound && this.broker) {
      return { state: 'running', detail: `listening on ${this.describe(this.bound)}, ${this.broker.connectedClients} client(s)` }
    }
    return { ...this.state }
  }

  /** Resolves once the source left `starting`: listening (`running`) or `unavailable`. */
  ready(): Promise<SourceHealth> {
    if (this.state.state !== 'starting') return Promise.resolve(this.health())
    return new Promise((resolve) => this.readyWaiters.push(resolve))
  }

  /** The bound address while running (port 0 in config → the OS-chosen port). */
  address(): { host: string; port: number } | undefined {
    return this.bound ? { host: this.bound.address, port: this.bound.port } : undefined
  }

  /**
   * Listens until `signal` aborts, then stops accepting, closes every sensor connection and
   * resolves. Never throws for a busy port or bad client input.
   */
  async run(sink: ReadingSink, signal: AbortSignal): Promise<void> {
    const { config, deps } = this
    const rejects = new RejectLog(this.log, deps.counters, config.id)
    const broker = await IngressBroker.create({
      sourceId: config.id,
      sink,
      directory: this.directory,
      topicMap: this.topicMap,
      maxPayloadBytes: config.maxPayloadBytes,
      allowAnonymous: config.allowAnonymous,
      rejects,
      log: this.log,
    })
    const sockets = new Set<net.Socket>()
    const server = net.createServer((socket) => {
      sockets.add(socket)
      socket.once('close', () => sockets.delete(socket))
      const conn = new GuardedConnection(socket, config.maxPayloadBytes + PUBLISH_OVERHEAD_BYTES, (v) =>
        rejects.reject(
          v.reason === 'oversize' ? 'oversize' : 'malformed_packet',
          { remote: socket.remoteAddress, bytes: v.reason === 'oversize' ? v.packetBytes : undefined },
          v.reason === 'oversize' ? 'MQTT packet too large, connection closed before buffering it' : 'malformed MQTT header, connection closed',
        ),
      )
      broker.aedes.handle(conn)
    })
    server.maxConnections = config.maxClients
    server.on('drop', (d) => rejects.reject('too_many_clients', { remote: d?.remoteAddress }, 'maxClients reached, connection dropped'))

    try {
      this.bound = await listen(server, config.listen.host, config.listen.port)
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'error'
      const hint = code === 'EADDRINUSE' ? ' (port in use: another MQTT broker? set `listen`)' : ''
      this.setState({ state: 'unavailable', detail: `cannot listen on ${config.listen.listen}: ${code}${hint}` })
      this.log.warn({ err, code: 'GW_ERR_HARDWARE_UNAVAILABLE' }, this.state.detail!)
      await broker.close()
      await aborted(signal)
      this.state = { state: 'stopped', detail: this.state.detail }
      return
    }
    this.broker = broker
    this.setState({ state: 'running' })
    this.log.info({ listen: this.describe(this.bound), devices: config.devices.length }, 'mqtt ingress listening')

    await aborted(signal)
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    await broker.close()
    for (const s of sockets) s.destroy() // connections that never completed CONNECT
    await closed
    this.state = { state: 'stopped' }
  }

  private setState(h: SourceHealth): void {
    this.state = h
    for (const resolve of this.readyWaiters.splice(0)) resolve(this.health())
  }

  private describe(a: net.AddressInfo): string {
    return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`
  }
}

function listen(server: net.Server, host: string, port: number): Promise<net.AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve(server.address() as net.AddressInfo)
    })
  })
}
