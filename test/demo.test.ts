/**
 * `edge-gateway demo` (what `npm start` runs) as a child process: the banner lists the simulated
 * inputs, and a subscriber on the embedded broker sees events from every one of them, each having
 * gone through its REAL driver; SIGTERM stops it cleanly. Without socat, serial is left out and
 * the banner says why.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { startCli } from './support/cli-run.js'
import { collectEvents } from './support/collector.js'
import { socatAvailable } from './support/pty-pair.js'

async function withDemo(env: NodeJS.ProcessEnv, fn: (demo: ReturnType<typeof startCli>, port: number) => Promise<void>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'eg-demo-'))
  const demo = startCli(['demo', '--data-dir', path.join(dir, 'data'), '--devices', '1'], env)
  try {
    const [, port] = await demo.waitForOutput(/watch it: +mosquitto_sub -h 127\.0\.0\.1 -p (\d+) /)
    await demo.waitForOutput(/Ctrl-C to stop\./)
    await fn(demo, Number(port))
  } finally {
    const r = await demo.stop('SIGTERM')
    await rm(dir, { recursive: true, force: true })
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain('stopped cleanly')
  }
  return demo.output().stderr
}

describe('edge-gateway demo', () => {
  it('every simulated input reaches the broker through its real driver', async () => {
    const socat = socatAvailable() // without it serial is left out (next test); the rest must still flow
    const stderr = await withDemo(process.env, async (demo, port) => {
      const banner = demo.output().stdout
      if (socat) expect(banner).toMatch(/^ {4}serial {4}NMEA GPS .* → SerialSource at /m)
      expect(banner).toMatch(/^ {4}ble {7}bthome, ruuvi, atc1441 adverts .* → noble → BleSource$/m)
      expect(banner).toMatch(/^ {4}doorbell  FakeGpioLine on BCM 17 .* → GpioSource$/m)
      expect(banner).toMatch(/^ {4}mqtt {6}MQTT ingress on mqtt:\/\/127\.0\.0\.1:\d+ ← 2 simulated ESP32s/m)
      if (socat) expect(banner).not.toContain('left out')

      const col = await collectEvents(`mqtt://127.0.0.1:${port}`, 'edge/demo/#', { protocolVersion: 4 })
      const want: Record<string, string> = {
        '/gateways/demo/sim/sim-0001': 'io.edgegateway.environment',
        ...(socat ? { '/gateways/demo/gps/gps-1': 'io.edgegateway.gnss.fix' } : {}),
        '/gateways/demo/ble/a4c138000001': 'io.edgegateway.environment', // BTHome
        '/gateways/demo/ble/cbb8334c884f': 'io.edgegateway.environment', // RuuviTag
        '/gateways/demo/ble/a4c138aabbcc': 'io.edgegateway.environment', // ATC1441
        '/gateways/demo/doorbell/front-door': 'io.edgegateway.doorbell.press', // first press ~3 s in
        '/gateways/demo/lan/esp32-000001': 'io.edgegateway.environment',
        '/gateways/demo/lan/esp32-000002': 'io.edgegateway.environment',
      }
      const seen = (source: string, type: string): boolean => col.events.some((e) => e.source === source && e.event.type === type)
      try {
        await col.waitFor(() => Object.entries(want).every(([s, t]) => seen(s, t)), 20_000)
      } finally {
        await col.close()
      }
    })
    // The shutdown order keeps the serial source from seeing its PTY vanish (an "unplug").
    expect(stderr).not.toMatch(/serial port unavailable/)
  })

  it('without socat the serial input is left out, and the banner says why', async () => {
    await withDemo({ ...process.env, PATH: '/nonexistent' }, async (demo) => {
      const banner = demo.output().stdout
      expect(banner).toMatch(/^ {2}left out:\n {4}serial: left out, socat not installed \(apt-get install socat\)$/m)
      expect(banner).toMatch(/^ {4}ble {7}/m)
      expect(banner).not.toMatch(/^ {4}serial {4}/m)
    })
  })
})
