/** The uplink examples the README points to are valid configs (through the real CLI's `config check`). */
import { spawn } from 'node:child_process'
import { readdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const EXAMPLES = path.join(ROOT, 'deploy/examples')
const SECRETS = {
  MQTT_PASSWORD: 'example-secret',
  IOTHUB_SAS_TOKEN: 'SharedAccessSignature sr=x&sig=y&se=1',
  ESP32_KITCHEN_PASSWORD: 'example-secret',
  EVENTHUBS_CONNECTION_STRING: 'Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=abc;EntityPath=telemetry',
}

function configCheck(file: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/edge-gateway.js'), 'config', 'check', file], { env: { ...process.env, ...SECRETS } })
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (out += d.toString()))
    child.on('close', (code) => resolve({ code, out }))
  })
}

describe('deploy/examples', () => {
  const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml'))
  it('has the uplink examples the README names', () => {
    expect(files).toEqual(expect.arrayContaining(['mqtt-broker.yaml', 'azure-iot-hub.yaml', 'eventhubs.yaml']))
  })
  for (const file of files) {
    it(`${file} passes config check, and no secret is echoed`, async () => {
      const r = await configCheck(path.join(EXAMPLES, file))
      expect(r.out).toContain(': ok')
      expect(r.code).toBe(0)
      for (const secret of Object.values(SECRETS)) expect(r.out).not.toContain(secret)
    })
  }
})
