/**
 * mqtt.js client options derived from the validated config, TLS material, and URL redaction.
 */
import { readFile as fsReadFile } from 'node:fs/promises'
import type { IClientOptions } from 'mqtt'
import { GatewayError } from '../../core/errors.js'
import type { MqttUplinkConfig } from './config.js'

/** PEM contents read from the files named in `config.tls`. */
export interface TlsMaterial {
  ca?: Buffer
  cert?: Buffer
  key?: Buffer
}

/** Reads a file's bytes. */
export type ReadFile = (path: string) => Promise<Buffer>

/**
 * Reads the CA, certificate and key files named in `tls`, once (at start). Throws GatewayError
 * `GW_ERR_CONFIG` naming the field when a file cannot be read: a missing certificate is a
 * configuration error, not an outage, so it fails loudly instead of being retried.
 */
export async function readTlsMaterial(tls: MqttUplinkConfig['tls'], readFile: ReadFile = fsReadFile): Promise<TlsMaterial> {
  const out: TlsMaterial = {}
  for (const field of ['ca', 'cert', 'key'] as const) {
    const path = tls?.[field]
    if (path === undefined) continue
    try {
      out[field] = await readFile(path)
    } catch (err) {
      throw new GatewayError('GW_ERR_CONFIG', `mqtt uplink: cannot read tls.${field} file "${path}"`, { cause: err })
    }
  }
  return out
}

/** The broker URL without user name or password, for logs and health. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.username === '' && u.password === '') return url
    u.username = ''
    u.password = ''
    return u.toString()
  } catch {
    return '(unparseable url)'
  }
}

/** Default client id: stable per gateway and uplink, so a broker can see a reconnect as such. */
export function defaultClientId(gatewayId: string, uplinkId: string): string {
  return `edge-gateway-${gatewayId}-${uplinkId}`
}

/**
 * Options for one connection attempt. The choices that matter for delivery guarantees:
 * - `reconnectPeriod: 0`: the uplink drives reconnects itself (full-jitter backoff) with a fresh
 *   client each time, so publishes of a dead connection are never replayed from mqtt.js memory;
 * - `clean: true`: no broker-side session to resume; unacknowledged events are resent from our
 *   durable store instead (MQTT 5 §3.1.2.4 Clean Start; MQTT 3.1.1 §3.1.2.4 Clean Session);
 * - `queueQoSZero: false`, `resubscribe: false`: this client only publishes at QoS 1.
 */
export function buildClientOptions(config: MqttUplinkConfig, gatewayId: string, tls: TlsMaterial): IClientOptions {
  const opts: IClientOptions = {
    protocolVersion: config.protocolVersion,
    clean: true,
    clientId: config.clientId ?? defaultClientId(gatewayId, config.id),
    keepalive: config.keepaliveSec,
    connectTimeout: config.connectTimeoutMs,
    reconnectPeriod: 0,
    queueQoSZero: false,
    resubscribe: false,
  }
  if (config.username !== undefined) opts.username = config.username
  if (config.password !== undefined) opts.password = config.password
  if (tls.ca) opts.ca = tls.ca
  if (tls.cert) opts.cert = tls.cert
  if (tls.key) opts.key = tls.key
  if (config.tls) opts.rejectUnauthorized = config.tls.rejectUnauthorized
  return opts
}
