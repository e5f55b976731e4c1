/**
 * Scenario 8: a serial device unplugged and replugged repeatedly while the real gateway process
 * reads it. The device is firmware-sim/serial-sensor.ts writing JSON lines (`seq` counts lines)
 * on one end of a socat PTY pair (test/support/pty-pair.ts); the gateway's `serial` source opens
 * the other end. Unplug = socat killed (links vanish), replug = a new socat at the same paths.
 *
 * Proves: the source notices every unplug (`disconnected` in /healthz), reopens after every
 * replug with no restart of the process, and what the gateway made durable arrives in order
 * without loss. Lines in flight inside the PTY at the unplug can be lost, as on a real UART: at
 * the sensor level only gaps at unplug moments are allowed, never reordering or repeats.
 *
 * Skipped with a reason when the `serial` source type is not registered in gateway/config yet, or
 * socat is missing (locally; under CI=true a missing socat fails).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { SerialSensorSim } from '../../../firmware-sim/serial-sensor.js'
import { openPtyPair, socatAvailable } from '../../support/pty-pair.js'
import { MQTT_UPLINK, startChaosRig } from '../../support/chaos-rig.js'
import { check, newReport, seededRandom, type ScenarioReport } from '../../support/chaos-verdict.js'
import { REPO_ROOT, hold } from './common.js'

export interface SerialUnplugParams {
  unplugs: number
  /** Time unplugged, uniform in [min, max] ms (deliberate). */
  downMinMs: number
  downMaxMs: number
  /** Time plugged in between unplugs, ms (deliberate). */
  upMs: number
  /** Sensor write interval, ms. */
  intervalMs: number
  /** Reopen backoff cap of the source, ms. */
  reopenMaxMs: number
  seed: number
}

/** True when gateway/config registers the `serial` source type. */
export function serialSourceRegistered(): boolean {
  try {
    return /serialSourceSchema/.test(readFileSync(path.join(REPO_ROOT, 'gateway/config/component-types.ts'), 'utf8'))
  } catch {
    return false
  }
}

export async function runSerialUnplug(p: SerialUnplugParams): Promise<ScenarioReport> {
  const report = newReport(`serial device unplugged and replugged x${p.unplugs}`, { ...p })
  if (!serialSourceRegistered()) {
    report.skipped = 'the `serial` source type is not registered in gateway/config/component-types.ts yet'
    return report
  }
  if (!socatAvailable()) {
    if (process.env.CI === 'true') check(report, 'socat available', false, 'apt-get install socat (.ci/run installs it)')
    else report.skipped = 'socat not installed (apt-get install socat): no PTY pair'
    return report
  }
  const random = seededRandom(p.seed)
  const ptyDir = mkdtempSync(path.join(os.tmpdir(), 'eg-chaos-pty-'))
  const pty = await openPtyPair(ptyDir)
  const sim = new SerialSensorSim({ pty, format: 'jsonl', intervalMs: p.intervalMs, deviceId: 'uart-1' })
  const rig = await startChaosRig({ prefix: 'eg-chaos-serial-' })
  try {
    rig.writeConfig({
      sources: [{ type: 'serial', id: 'tty', path: pty.b, baudRate: 115200, format: 'jsonl', reopenMaxMs: p.reopenMaxMs }],
    })
    await sim.start()
    const gw = rig.startGateway('serial run')
    const state = async (): Promise<string | undefined> => (await rig.admin.snapshot()).health?.components?.sources?.[0]?.state
    await rig.admin.waitFor((s) => s.health?.components?.sources?.[0]?.state === 'running', 20_000, 'serial source running', { gateway: gw })
    const seqs = (): number[] => (rig.collector?.events ?? []).map((e) => Number((e.event.data as { seq?: unknown } | undefined)?.seq)).filter(Number.isFinite)
    await rig.collector!.waitFor(() => seqs().length >= 20, 15_000)

    let noticed = 0
    let resumed = 0
    for (let i = 0; i < p.unplugs; i++) {
      await sim.unplug()
      try {
        await rig.admin.waitFor((s) => s.health?.components?.sources?.[0]?.state === 'disconnected', 10_000, `unplug ${i + 1} noticed`, { gateway: gw, intervalMs: 50 })
        noticed++
      } catch {
        // counted
      }
      await hold(Math.round(p.downMinMs + random() * (p.downMaxMs - p.downMinMs)))
      const writtenAtReplug = sim.linesWritten
      await sim.replug()
      try {
        await rig.collector!.waitFor(() => seqs().some((s) => s >= writtenAtReplug + 3), 15_000)
        resumed++
      } catch {
        // counted
      }
      await hold(p.upMs)
    }
    check(report, 'every unplug noticed (source disconnected in /healthz)', noticed === p.unplugs, `${noticed}/${p.unplugs}`)
    check(report, 'data flowed again after every replug, same process', resumed === p.unplugs && gw.alive, `${resumed}/${p.unplugs}, alive=${gw.alive}, state ${await state()}`)
    await sim.stop()
    report.facts.linesWritten = sim.linesWritten

    // The serial source never finishes on its own: wait for an empty queue, then judge.
    await rig.admin.waitFor((s) => s.metrics.includes(`edge_gateway_queue_depth{uplink="${MQTT_UPLINK}"} 0\n`), 20_000, 'queue empty', { gateway: gw })
    const exit = await gw.stop(15_000)
    check(report, 'clean stop (SIGTERM) exits 0', exit.code === 0, JSON.stringify(exit))
    const expected = await rig.storedCounters()
    await rig.waitReceived(expected, 15_000)
    const verdicts = rig.judge(expected)
    report.verdicts.push(...verdicts)
    const t = verdicts[0]!.total
    check(report, 'mqtt: lost = 0 (everything made durable arrived)', t.lost === 0, `lost ${t.lost}`)
    check(report, 'mqtt: reordered = 0', t.reordered === 0, `reordered ${t.reordered}`)
    check(report, 'mqtt: duplicated = 0 (the uplink was never interrupted)', t.duplicated === 0, `duplicated ${t.duplicated}`)
    // Sensor level: line numbers only go up; gaps only where the device was unplugged.
    const s = seqs()
    let backwards = 0
    let gaps = 0
    let widest = 0
    for (let i = 1; i < s.length; i++) {
      if (s[i]! <= s[i - 1]!) backwards++
      else if (s[i]! > s[i - 1]! + 1) {
        gaps++
        widest = Math.max(widest, s[i]! - s[i - 1]! - 1)
      }
    }
    report.facts.widestGapLines = widest
    check(report, 'sensor lines never repeated or reordered', backwards === 0, `${backwards} steps backwards`)
    check(report, 'sensor lines lost only at unplugs (at most one gap per unplug)', gaps <= p.unplugs, `${gaps} gaps, ${p.unplugs} unplugs; ${new Set(s).size} distinct lines of ${sim.linesWritten} written`)
    report.facts.sensorLinesArrived = new Set(s).size
    return report
  } finally {
    await sim.stop().catch(() => undefined)
    await pty.kill().catch(() => undefined)
    await rig.dispose()
    rmSync(ptyDir, { recursive: true, force: true })
  }
}
