import { describe, expect, it } from 'vitest'
import { GatewayError } from '../core/index.js'
import { isLoopbackHost, parseListen } from './listen-address.js'

describe('parseListen', () => {
  it('parses IPv4, names and bracketed IPv6', () => {
    expect(parseListen('127.0.0.1:9464')).toEqual({ host: '127.0.0.1', port: 9464 })
    expect(parseListen('localhost:0')).toEqual({ host: 'localhost', port: 0 })
    expect(parseListen('[::1]:8080')).toEqual({ host: '::1', port: 8080 })
  })

  it('rejects malformed values with GW_ERR_CONFIG naming the value', () => {
    for (const bad of ['9464', ':9464', '127.0.0.1', '127.0.0.1:70000', '::1:9464', 'host:port', 'a b:1']) {
      expect(() => parseListen(bad), bad).toThrow(GatewayError)
      expect(() => parseListen(bad)).toThrow(bad)
    }
  })
})

describe('isLoopbackHost', () => {
  it('accepts loopback only', () => {
    for (const h of ['localhost', 'LOCALHOST', '127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) expect(isLoopbackHost(h), h).toBe(true)
    for (const h of ['0.0.0.0', '::', '192.168.1.10', 'gateway.local', '127.0.0.1.nip.io', '::ffff:10.0.0.1']) expect(isLoopbackHost(h), h).toBe(false)
  })
})
