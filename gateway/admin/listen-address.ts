/** Parsing and vetting of the admin endpoint's `listen` option ("host:port"). */
import { isIPv4 } from 'node:net'
import { GatewayError } from '../core/index.js'

export interface ListenAddress {
  /** Without IPv6 brackets, as `server.listen` wants it. */
  host: string
  port: number
}

/**
 * Parses `"127.0.0.1:9464"`, `"localhost:0"`, `"[::1]:9464"`. Port 0 means "any free port".
 * Throws GatewayError `GW_ERR_CONFIG` naming the value when it is not host:port.
 */
export function parseListen(listen: string): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(listen.trim())
  const port = m ? Number(m[3]) : NaN
  if (!m || port > 65535) {
    throw new GatewayError(
      'GW_ERR_CONFIG',
      `admin.listen "${listen}" is not host:port (examples: "127.0.0.1:9464", "[::1]:9464", "localhost:0")`,
    )
  }
  return { host: (m[1] ?? m[2]) as string, port }
}

/**
 * True for `localhost`, 127.0.0.0/8, `::1` and IPv4-mapped 127.x. Any other name counts as remote:
 * we cannot know what it resolves to, and guessing wrong would expose an unauthenticated endpoint.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase()
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h
  return isIPv4(v4) && v4.startsWith('127.')
}
