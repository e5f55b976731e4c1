/**
 * Secrets never reach the logs: the real CLI `run`, at log level trace, with an MQTT password and
 * an Event Hubs connection string taken from the environment. One MQTT uplink authenticates and
 * delivers, a second one is refused by the broker (bad password: the error paths log), and the
 * Event Hubs uplink sends to a local AMQP peer. Everything written to stdout and stderr from start
 * to exit is searched for the secret values (whole, and the key inside the connection string),
 * including a SIGHUP reload that is refused because of a value taken from the environment.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { startAedes, type AedesHandle } from './support/aedes-broker.js'
import { startEventHubsPeer, type EventHubsPeer } from './support/eventhubs-peer.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const BIN = path.join(ROOT, 'bin/edge-gateway.js')

// Distinctive values, so any occurrence is a leak and not a coincidence.
const MQTT_PASSWORD = 'pw-S3cr3t-7f1c9e2a-mqtt'
const MQTT_BAD_PASSWORD = 'pw-Wr0ng-0b5d8c41-mqtt'
const EH_KEY = 'c2VjcmV0LWtleS05YTNmMWUyYi1ldmVudGh1YnM='

describe('logs never contain secrets (real CLI)', () => {
  let broker: AedesHandle | undefined
  let peer: EventHubsPeer | undefined
  let child: ChildProcess | undefined
  let dir: string | undefined
  afterEach(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL')
    await broker?.close()
    await peer?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('MQTT passwords and the Event Hubs connection string do not appear on stdout or stderr', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'eg-secrets-'))
    /** Conditions waiting to be re-checked on every output chunk and broker event. */
    const seen = new Set<() => void>()
    let refusedLogins = 0
    broker = await startAedes({
      aedes: {
        authenticate: (_client, username, password, cb) => {
          const ok = username === 'gw' && password?.toString() === MQTT_PASSWORD
          if (!ok) refusedLogins++
          for (const w of [...seen]) w()
          cb(ok ? null : Object.assign(new Error('bad user name or password'), { returnCode: 4 }), ok)
        },
      },
    })
    let mqttDelivered = 0
    broker.broker.on('publish', (packet) => {
      if (packet.topic.startsWith('edge/')) mqttDelivered++
      for (const w of [...seen]) w()
    })
    peer = await startEventHubsPeer()
    const connectionString = `Endpoint=sb://127.0.0.1:${peer.port}/;SharedAccessKeyName=send;SharedAccessKey=${EH_KEY};EntityPath=${peer.hubName};UseDevelopmentEmulator=true`

    const configPath = path.join(dir, 'config.yaml')
    writeFileSync(
      configPath,
      [
        `gateway: { id: gw-secrets, dataDir: ${JSON.stringify(path.join(dir, 'data'))} }`,
        'sources: [{ type: simulator, id: sim, devices: 2, intervalMs: 20 }]',
        'uplinks:',
        `  - { type: mqtt, id: good, url: "${broker.url}", protocolVersion: 4, username: gw, password: "\${env:MQTT_PASSWORD}" }`,
        `  - { type: mqtt, id: refused, url: "${broker.url}", protocolVersion: 4, username: gw, password: "\${env:MQTT_BAD_PASSWORD}", reconnectMaxMs: 200 }`,
        '  - { type: eventhubs, id: hub, connectionString: "${env:EVENTHUBS_CONNECTION_STRING}" }',
        'admin: { listen: "127.0.0.1:0" }',
        'log: { level: trace }',
      ].join('\n'),
    )
    const { NOTIFY_SOCKET: _n, WATCHDOG_USEC: _w, ...env } = process.env
    child = spawn(process.execPath, [BIN, 'run', '--config', configPath], {
      cwd: ROOT,
      env: { ...env, MQTT_PASSWORD, MQTT_BAD_PASSWORD, EVENTHUBS_CONNECTION_STRING: connectionString },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    const onData = (d: Buffer): void => {
      out += d.toString()
      for (const w of [...seen]) w()
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)))
    const waitFor = (cond: () => boolean, what: string): Promise<void> =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; output:\n${out}`)), 20_000)
        const check = (): void => {
          if (!cond()) return
          seen.delete(check)
          clearTimeout(timer)
          resolve()
        }
        seen.add(check)
        check()
      })

    await waitFor(() => out.includes('"msg":"gateway started"'), '"gateway started"')
    // Traffic on every path: delivered over MQTT and to the hub, and refused logins logged.
    await peer.waitFor((events) => events.length >= 5)
    await waitFor(() => mqttDelivered >= 5 && refusedLogins >= 2, 'MQTT deliveries and refused logins')
    await waitFor(() => out.includes('"uplink":"refused"'), 'a log line about the refused uplink')
    // A reload refused because of a value that came from the environment: the problem is
    // reported with the reference as written, not the secret (cf. format-issues.ts).
    // (units.ts quotes the value it could not parse.)
    writeFileSync(configPath, readFileSync(configPath, 'utf8').replace('id: good,', 'id: good, maxBytes: "${env:MQTT_PASSWORD}",'))
    child.kill('SIGHUP')
    await waitFor(() => out.includes('"msg":"config reload refused'), 'the refused reload')
    expect(out).toContain('uplinks.0.maxBytes: \\"${env:MQTT_PASSWORD}\\" is not a size')

    child.kill('SIGTERM')
    expect(await exited).toBe(0)

    expect(out).toContain('"msg":"gateway stopped"')
    for (const secret of [MQTT_PASSWORD, MQTT_BAD_PASSWORD, EH_KEY, connectionString]) {
      expect(out.includes(secret), `secret ${secret.slice(0, 8)}… leaked into the logs`).toBe(false)
    }
    // The key also must not leak in a re-encoded form (URL-encoded, as in SAS tokens).
    expect(out.includes(encodeURIComponent(EH_KEY))).toBe(false)
  })
})
