/**
 * An in-process aedes 1.x broker on a random loopback port, for MQTT 3.1.1 tests (aedes refuses
 * protocolVersion 5). aedes 1.x is ESM-only and must be created with `await Aedes.createBroker()`
 * (its default export throws).
 *
 * Hooks make broker behaviour scriptable, e.g. hold PUBACKs until the test releases them:
 * ```ts
 * let release!: () => void
 * const gate = new Promise<void>((r) => (release = r))
 * const broker = await startAedes({ aedes: { authorizePublish: (_c, _p, cb) => void gate.then(() => cb(null)) } })
 * // ... later: release()
 * ```
 * (aedes answers a QoS 1 PUBLISH with PUBACK only after `authorizePublish` called back.)
 * This module must not import vitest (test/support is also compiled for benches).
 */
import net from 'node:net'
import { Aedes, type AedesOptions } from 'aedes'

export interface AedesStartOptions {
  /** Passed to `Aedes.createBroker` (hooks such as authorizePublish, preConnect). */
  aedes?: AedesOptions
  /** Loopback port; default: random free port. Use a fixed one to "bring a broker back". */
  port?: number
}

export interface AedesHandle {
  readonly port: number
  /** `mqtt://127.0.0.1:PORT` */
  readonly url: string
  readonly broker: Aedes
  /** Destroys every client socket at once (an abrupt network cut) but keeps listening. */
  dropConnections(): void
  /** Stops listening, destroys open sockets and closes the broker. Idempotent. */
  close(): Promise<void>
}

/** Starts aedes and resolves once it is listening. */
export async function startAedes(opts: AedesStartOptions = {}): Promise<AedesHandle> {
  const broker = await Aedes.createBroker(opts.aedes)
  const sockets = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
    broker.handle(socket)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const port = (server.address() as net.AddressInfo).port
  let closing: Promise<void> | undefined
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    broker,
    dropConnections: () => {
      for (const s of sockets) s.destroy()
    },
    close: () => {
      closing ??= (async () => {
        // server.close waits for open connections; destroy them so close() cannot hang.
        const closed = new Promise<void>((resolve) => server.close(() => resolve()))
        for (const s of sockets) s.destroy()
        await closed
        await new Promise<void>((resolve) => broker.close(() => resolve()))
      })()
      return closing
    },
  }
}
