/**
 * Bounds the memory one connection can make aedes allocate.
 *
 * aedes 1.x creates its mqtt-packet parser without a size limit, and the parser buffers a whole
 * PUBLISH before anyone sees it: a client announcing a 256 MB packet gets 256 MB buffered. MQTT
 * 3.1.1 puts the packet length in the fixed header (section 2.2.3, variable-length "Remaining
 * Length"), so we read just that header as bytes stream past and cut the connection the moment a
 * packet announces more than `maxPacketBytes`, before its body arrives.
 *
 * The guard sits between the socket and `broker.handle` as a Duplex: reads are scanned and handed
 * on (with backpressure: the socket pauses when aedes stops reading), writes go straight to the
 * socket.
 */
import { Duplex } from 'node:stream'
import type { Socket } from 'node:net'

export type ScanVerdict = { ok: true } | { ok: false; reason: 'oversize'; packetBytes: number } | { ok: false; reason: 'malformed' }

/** Incremental MQTT fixed-header reader: tracks packet boundaries across arbitrary chunking. */
export class MqttFrameScanner {
  private phase: 'type' | 'length' | 'body' = 'type'
  private remaining = 0
  private multiplier = 1
  private lengthBytes = 0

  /** @param maxPacketBytes largest accepted Remaining Length (body after the fixed header) */
  constructor(private readonly maxPacketBytes: number) {}

  /** Scans `chunk`; the first verdict that is not ok is final (the connection is closed). */
  feed(chunk: Uint8Array): ScanVerdict {
    let i = 0
    while (i < chunk.length) {
      if (this.phase === 'body') {
        const n = Math.min(this.remaining, chunk.length - i)
        this.remaining -= n
        i += n
        if (this.remaining === 0) this.phase = 'type'
        continue
      }
      const byte = chunk[i++]!
      if (this.phase === 'type') {
        this.phase = 'length'
        this.remaining = 0
        this.multiplier = 1
        this.lengthBytes = 0
        continue
      }
      // Remaining Length: 7 bits per byte, little-endian groups, at most 4 bytes (MQTT 2.2.3).
      this.remaining += (byte & 0x7f) * this.multiplier
      this.multiplier *= 128
      if (++this.lengthBytes > 4) return { ok: false, reason: 'malformed' }
      if (byte & 0x80) continue
      if (this.remaining > this.maxPacketBytes) return { ok: false, reason: 'oversize', packetBytes: this.remaining }
      this.phase = this.remaining === 0 ? 'type' : 'body'
    }
    return { ok: true }
  }
}

/**
 * Wraps `socket` for `broker.handle`. `onReject` is called once (before the socket is destroyed)
 * when a packet is too large or the header is malformed.
 */
export class GuardedConnection extends Duplex {
  readonly remoteAddress: string | undefined
  private readonly scanner: MqttFrameScanner

  constructor(
    private readonly socket: Socket,
    maxPacketBytes: number,
    onReject: (verdict: Exclude<ScanVerdict, { ok: true }>) => void,
  ) {
    super({ allowHalfOpen: false })
    this.remoteAddress = socket.remoteAddress
    this.scanner = new MqttFrameScanner(maxPacketBytes)
    socket.on('data', (chunk: Buffer) => {
      const verdict = this.scanner.feed(chunk)
      if (!verdict.ok) {
        onReject(verdict)
        this.destroy()
        return
      }
      if (!this.push(chunk)) socket.pause()
    })
    socket.on('end', () => this.push(null))
    socket.on('error', (err) => this.destroy(err))
    socket.on('close', () => this.destroy())
  }

  override _read(): void {
    this.socket.resume()
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    // Complete at once when the socket took it; otherwise after it drained (socket backpressure).
    if (this.socket.write(chunk)) cb()
    else this.socket.once('drain', () => cb())
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.socket.end(cb)
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.socket.destroy()
    cb(err)
  }
}
