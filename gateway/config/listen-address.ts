/** `host:port` listen addresses (admin endpoint), validated and split once at load time. */
import { isIP } from 'node:net'
import { z } from 'zod'

/** A validated listen address. */
export interface ListenAddress {
  /** Normalised `host:port` (IPv6 hosts in brackets), as written back in logs. */
  listen: string
  /** IPv4/IPv6 literal (without brackets) or DNS name, ready for `server.listen(port, host)`. */
  host: string
  /** 0-65535; 0 asks the OS for a free port (tests). */
  port: number
}

// RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens.
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/

/** Splits and validates `host:port`, `[v6]:port`; returns a message instead of throwing. */
export function parseListenAddress(text: string): ListenAddress | { error: string } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text.trim())
  if (!m) return { error: `"${text}" is not host:port (examples: "127.0.0.1:8080", "[::1]:8080", "0.0.0.0:9100")` }
  const v6 = m[1]
  const host = v6 ?? m[2] ?? ''
  const port = Number(m[3])
  if (port > 65535) return { error: `port ${port} is out of range (0-65535)` }
  if (v6 !== undefined && isIP(v6) !== 6) return { error: `"${v6}" is not an IPv6 address` }
  if (v6 === undefined && isIP(host) === 0 && !(HOSTNAME.test(host) && !/^[\d.]+$/.test(host))) {
    // The digits-and-dots exclusion makes "300.1.1.1" an error rather than a DNS name.
    return { error: `"${host}" is not an IP address or host name` }
  }
  return { listen: v6 !== undefined ? `[${host}]:${port}` : `${host}:${port}`, host, port }
}

/** Zod schema: a `host:port` string in, a {@link ListenAddress} out. */
export const listenAddress = z.string().transform((text, ctx): ListenAddress => {
  const parsed = parseListenAddress(text)
  if ('error' in parsed) {
    ctx.addIssue({ code: 'custom', message: parsed.error })
    return z.NEVER
  }
  return parsed
})
