/**
 * A loopback TCP proxy for chaos tests, built on `net` only: it sits between the gateway and a
 * broker and can make the link misbehave the way real links do.
 *
 * ```ts
 * const proxy = await startTcpProxy({ targetPort: broker.port })
 * // gateway config: url: proxy.url('mqtt')
 * proxy.freeze()             // half-open: nothing forwarded either way, no FIN, no RST
 * proxy.thaw()               // the partition heals; held bytes flow again, in order
 * proxy.setLink({ latencyMs: 50, bytesPerSec: 64 * 1024 })
 * proxy.resetAll()           // RST both sides of every connection
 * await proxy.close()
 * ```
 *
 * Model
 * - Each accepted client gets its own upstream connection (a "pipe" with two directions). Bytes of
 *   one direction leave in arrival order. With a bandwidth limit, a chunk's transmission starts
 *   when the previous one of that direction finished and takes `bytes / bytesPerSec`; it is
 *   delivered `latencyMs` after that (propagation delay). Chunks are cut into 4 KiB pieces so a
 *   slow link trickles instead of bursting.
 * - Memory is bounded: a direction holding more than `maxQueuedBytes` stops reading its source
 *   socket (TCP flow control then pushes back to the sender), and reads again below half of it.
 * - `freeze()` stops reading AND writing on both sockets of every pipe while keeping them open:
 *   the peers see silence, never a FIN or RST (the kernel still accepts bytes until its buffers
 *   fill, exactly as a dead link with a live local stack). With `newConnections: 'freeze'`,
 *   connections accepted while frozen are not read and not connected upstream (a SYN that never
 *   arrived); on `thaw()` those whose client already gave up (FIN seen within a short grace) are
 *   discarded instead of replaying a stale CONNECT upstream. With `'forward'`, only the existing
 *   connections are frozen and new ones work (a NAT entry that died while routing still works).
 * - `resetAll()` destroys both sockets of every pipe with RST (`resetAndDestroy`).
 *
 * No vitest import: compiled with the build (tsconfig.build.json includes test/support).
 */
import net from 'node:net'

export interface LinkShape {
  /** One-way delay added to every chunk, each direction, ms. @default 0 */
  latencyMs?: number
  /** Per direction and connection; 0 or Infinity = unlimited. @default Infinity */
  bytesPerSec?: number
}

export interface TcpProxyOptions extends LinkShape {
  /** Upstream port on 127.0.0.1. */
  targetPort: number
  /** @default 127.0.0.1 */
  targetHost?: string
  /** @default 0 (any free loopback port) */
  listenPort?: number
  /** Per direction before the source socket is paused. @default 1 MiB */
  maxQueuedBytes?: number
}

export interface FreezeOptions {
  /** What happens to connections accepted while frozen. @default 'freeze' */
  newConnections?: 'freeze' | 'forward'
}

export interface TcpProxyStats {
  /** Client connections accepted since start. */
  accepted: number
  /** Upstream connections that completed. */
  upstreamConnected: number
  /** Pipes currently open. */
  open: number
  /** Pipes reset by resetAll(). */
  resets: number
  /** Connections accepted while frozen and discarded at thaw because the client had given up. */
  discardedStale: number
  bytesUp: number
  bytesDown: number
  frozen: boolean
}

export interface TcpProxy {
  readonly port: number
  /** `${scheme}://127.0.0.1:PORT` */
  url(scheme: string): string
  stats(): TcpProxyStats
  setLink(shape: LinkShape): void
  freeze(opts?: FreezeOptions): void
  thaw(): void
  /** RSTs every open pipe; resolves with how many were reset. */
  resetAll(): number
  /** Resolves when `predicate(stats())` holds, re-checked on every proxy event; rejects after timeoutMs. */
  waitFor(predicate: (s: TcpProxyStats) => boolean, timeoutMs: number, what: string): Promise<void>
  /** Destroys every pipe and stops listening. Idempotent. */
  close(): Promise<void>
}

const PIECE_BYTES = 4096
const THAW_GRACE_MS = 50

interface Piece {
  data: Buffer
  deliverAt: number
}

/** One direction of a pipe: reads `from`, writes `to`, with the link shape applied. */
class Direction {
  private readonly queue: Piece[] = []
  private queued = 0
  private busyUntil = 0
  private timer: NodeJS.Timeout | undefined
  private waitingDrain = false
  private readPaused = false
  private emptyWaiters: Array<() => void> = []

  constructor(
    private readonly from: () => net.Socket | undefined,
    private readonly to: () => net.Socket | undefined,
    private readonly proxy: ProxyState,
    private readonly count: (n: number) => void,
  ) {}

  push(chunk: Buffer): void {
    const { latencyMs, bytesPerSec } = this.proxy.link
    for (let off = 0; off < chunk.length; off += PIECE_BYTES) {
      const data = chunk.subarray(off, Math.min(chunk.length, off + PIECE_BYTES))
      const now = Date.now()
      const txMs = bytesPerSec > 0 && Number.isFinite(bytesPerSec) ? (data.length * 1000) / bytesPerSec : 0
      this.busyUntil = Math.max(now, this.busyUntil) + txMs
      this.queue.push({ data, deliverAt: this.busyUntil + latencyMs })
      this.queued += data.length
    }
    if (this.queued > this.proxy.maxQueuedBytes && !this.readPaused) {
      this.readPaused = true
      this.from()?.pause()
    }
    this.pump()
  }

  /** Writes every piece that is due; schedules itself for the next one. */
  pump(): void {
    if (this.proxy.frozenPipes.has(this) || this.waitingDrain) return
    clearTimeout(this.timer)
    this.timer = undefined
    const to = this.to()
    if (!to || to.destroyed) return
    while (this.queue.length > 0) {
      const head = this.queue[0]!
      const wait = head.deliverAt - Date.now()
      if (wait > 0) {
        this.timer = setTimeout(() => this.pump(), Math.max(1, wait))
        break
      }
      this.queue.shift()
      this.queued -= head.data.length
      this.count(head.data.length)
      if (!to.write(head.data)) {
        this.waitingDrain = true
        to.once('drain', () => {
          this.waitingDrain = false
          this.pump()
        })
        break
      }
    }
    if (this.readPaused && this.queued <= this.proxy.maxQueuedBytes / 2 && !this.proxy.frozenPipes.has(this)) {
      this.readPaused = false
      this.from()?.resume()
    }
    if (this.queue.length === 0) this.notifyEmpty()
  }

  /** Calls `fn` once everything queued has been written (at once when nothing is). */
  whenEmpty(fn: () => void): void {
    if (this.queue.length === 0) return fn()
    this.emptyWaiters.push(fn)
  }

  private notifyEmpty(): void {
    const waiters = this.emptyWaiters
    this.emptyWaiters = []
    for (const w of waiters) w()
  }

  /** Stops reading and writing (freeze). */
  halt(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    this.from()?.pause()
  }

  /** Undoes halt(); the caller removed this direction from frozenPipes first. */
  restart(): void {
    if (!this.readPaused) this.from()?.resume()
    this.pump()
  }

  dispose(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    this.queue.length = 0
    this.queued = 0
    this.emptyWaiters = []
  }
}

interface ProxyState {
  link: { latencyMs: number; bytesPerSec: number }
  maxQueuedBytes: number
  /** Directions currently frozen (a Set so a pipe can be frozen on its own). */
  frozenPipes: Set<Direction>
}

class Pipe {
  upstream: net.Socket | undefined
  readonly up: Direction
  readonly down: Direction
  private closed = false
  /** Accepted while frozen with newConnections 'freeze': not read, not connected upstream yet. */
  held = false
  clientEnded = false

  constructor(
    readonly client: net.Socket,
    private readonly state: ProxyState,
    private readonly onClose: (p: Pipe) => void,
    counters: { up: (n: number) => void; down: (n: number) => void },
  ) {
    this.up = new Direction(() => this.client, () => this.upstream, state, counters.up)
    this.down = new Direction(() => this.upstream, () => this.client, state, counters.down)
    client.setNoDelay(true)
    client.on('data', (d: Buffer) => this.up.push(d))
    client.on('end', () => {
      this.clientEnded = true
      this.endSide(() => this.upstream, this.up)
    })
    client.on('error', () => this.destroy())
    client.on('close', () => this.destroy())
  }

  connectUpstream(host: string, port: number, onConnected: () => void): void {
    const upstream = net.connect({ host, port })
    this.upstream = upstream
    upstream.setNoDelay(true)
    upstream.on('connect', () => {
      onConnected()
      if (this.state.frozenPipes.has(this.up)) return void upstream.pause()
      this.client.resume()
      this.up.pump()
    })
    upstream.on('data', (d: Buffer) => this.down.push(d))
    upstream.on('end', () => this.endSide(() => this.client, this.down))
    upstream.on('error', () => this.destroy())
    upstream.on('close', () => this.destroy())
  }

  /** Half-close the other side once everything queued for it was written. */
  private endSide(to: () => net.Socket | undefined, dir: Direction): void {
    dir.whenEmpty(() => {
      if (!this.closed) to()?.end()
    })
  }

  reset(): void {
    this.client.resetAndDestroy()
    if (this.upstream && !this.upstream.destroyed) {
      if (this.upstream.connecting) this.upstream.destroy()
      else this.upstream.resetAndDestroy()
    }
    this.destroy()
  }

  destroy(): void {
    if (this.closed) return
    this.closed = true
    this.up.dispose()
    this.down.dispose()
    this.state.frozenPipes.delete(this.up)
    this.state.frozenPipes.delete(this.down)
    this.client.destroy()
    this.upstream?.destroy()
    this.onClose(this)
  }

  get isClosed(): boolean {
    return this.closed
  }
}

/** Starts listening on 127.0.0.1 and resolves once bound. */
export async function startTcpProxy(opts: TcpProxyOptions): Promise<TcpProxy> {
  const host = opts.targetHost ?? '127.0.0.1'
  const state: ProxyState = {
    link: { latencyMs: opts.latencyMs ?? 0, bytesPerSec: opts.bytesPerSec ?? Infinity },
    maxQueuedBytes: opts.maxQueuedBytes ?? 1024 * 1024,
    frozenPipes: new Set(),
  }
  const pipes = new Set<Pipe>()
  const held = new Set<Pipe>()
  const stats = { accepted: 0, upstreamConnected: 0, resets: 0, discardedStale: 0, bytesUp: 0, bytesDown: 0 }
  let frozen = false
  let freezeNew: FreezeOptions['newConnections'] = 'freeze'
  let closing = false
  const waiters = new Set<() => void>()
  const changed = (): void => {
    for (const w of [...waiters]) w()
  }
  const counters = {
    up: (n: number) => void (stats.bytesUp += n),
    down: (n: number) => void (stats.bytesDown += n),
  }

  const freezePipe = (p: Pipe): void => {
    state.frozenPipes.add(p.up)
    state.frozenPipes.add(p.down)
    p.up.halt()
    p.down.halt()
  }
  const thawPipe = (p: Pipe): void => {
    state.frozenPipes.delete(p.up)
    state.frozenPipes.delete(p.down)
    p.up.restart()
    p.down.restart()
  }
  const startPipe = (p: Pipe): void => {
    p.connectUpstream(host, opts.targetPort, () => {
      stats.upstreamConnected++
      changed()
    })
  }

  const server = net.createServer({ pauseOnConnect: true }, (socket) => {
    if (closing) return void socket.destroy()
    stats.accepted++
    const pipe = new Pipe(socket, state, (p) => {
      pipes.delete(p)
      held.delete(p)
      changed()
    }, counters)
    pipes.add(pipe)
    if (frozen && freezeNew === 'freeze') {
      pipe.held = true
      held.add(pipe)
      freezePipe(pipe)
    } else {
      startPipe(pipe)
    }
    changed()
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.listenPort ?? 0, '127.0.0.1', () => resolve())
  })
  const port = (server.address() as net.AddressInfo).port

  const snapshot = (): TcpProxyStats => ({ ...stats, open: pipes.size, frozen })

  return {
    port,
    url: (scheme) => `${scheme}://127.0.0.1:${port}`,
    stats: snapshot,
    setLink(shape) {
      if (shape.latencyMs !== undefined) state.link.latencyMs = shape.latencyMs
      if (shape.bytesPerSec !== undefined) state.link.bytesPerSec = shape.bytesPerSec
    },
    freeze(fopts = {}) {
      frozen = true
      freezeNew = fopts.newConnections ?? 'freeze'
      for (const p of pipes) freezePipe(p)
      changed()
    },
    thaw() {
      frozen = false
      for (const p of pipes) if (!p.held) thawPipe(p)
      // Held connections: read them briefly first (bytes stay queued: the pipe is still frozen
      // and has no upstream); a client that already gave up shows its FIN now, and must not be
      // replayed upstream (its SYN would never have got through).
      for (const p of [...held]) {
        held.delete(p)
        p.held = false
        p.client.resume()
        setTimeout(() => {
          if (p.isClosed || p.clientEnded || p.client.destroyed) {
            stats.discardedStale++
            p.destroy()
            return
          }
          p.client.pause()
          state.frozenPipes.delete(p.up)
          state.frozenPipes.delete(p.down)
          startPipe(p)
        }, THAW_GRACE_MS)
      }
      changed()
    },
    resetAll() {
      let n = 0
      for (const p of [...pipes]) {
        p.reset()
        n++
      }
      stats.resets += n
      changed()
      return n
    },
    waitFor(predicate, timeoutMs, what) {
      return new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (!predicate(snapshot())) return
          waiters.delete(check)
          clearTimeout(timer)
          resolve()
        }
        const timer = setTimeout(() => {
          waiters.delete(check)
          reject(new Error(`tcp-proxy: ${what} not seen within ${timeoutMs} ms (${JSON.stringify(snapshot())})`))
        }, timeoutMs)
        waiters.add(check)
        check()
      })
    },
    async close() {
      if (closing) return
      closing = true
      for (const p of [...pipes]) p.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
