/**
 * The sensors allowed to connect: username/password check and per-device topic ACL.
 *
 * Passwords are compared in constant time over their SHA-256 digests (equal length, so
 * `timingSafeEqual` applies and the password length does not leak). An unknown username is
 * compared against a dummy digest so it costs the same as a wrong password.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { compileTopicPattern, matchTopic, type TopicPattern } from './topic-map.js'

export interface DeviceCredentials {
  username: string
  password: string
  deviceId?: string
  topics: readonly string[]
}

/** A device after a successful CONNECT. */
export interface KnownDevice {
  username: string
  /** Configured `deviceId`, else the username: used by topicMap rules without a template. */
  deviceId: string
  /** Whether this device may publish to `topic` (its `topics` ACL). */
  mayPublish(topic: string): boolean
}

const digest = (b: Uint8Array | string): Buffer => createHash('sha256').update(b).digest()
const DUMMY = digest('edge-gateway: no such user')

export class DeviceDirectory {
  private readonly byUsername = new Map<string, { digest: Buffer; device: KnownDevice }>()

  /** Throws TypeError for an invalid topic pattern (config validation reports it earlier). */
  constructor(devices: readonly DeviceCredentials[]) {
    for (const d of devices) {
      const patterns: TopicPattern[] = d.topics.map(compileTopicPattern)
      this.byUsername.set(d.username, {
        digest: digest(d.password),
        device: {
          username: d.username,
          deviceId: d.deviceId ?? d.username,
          mayPublish: (topic) => patterns.some((p) => matchTopic(p, topic) !== null),
        },
      })
    }
  }

  /** The device for these credentials, or undefined. Never throws. */
  verify(username: string | undefined, password: Uint8Array | undefined): KnownDevice | undefined {
    const entry = username === undefined ? undefined : this.byUsername.get(username)
    const offered = digest(password ?? new Uint8Array(0))
    const ok = timingSafeEqual(offered, entry?.digest ?? DUMMY)
    return ok && entry && password !== undefined ? entry.device : undefined
  }
}
