/**
 * Config of a `ble` source: a Bluetooth LE scanner that turns sensor adverts (BTHome, RuuviTag,
 * ATC1441/pvvx, iBeacon, Eddystone) into readings. Nothing connects to the devices.
 */
import { z } from 'zod'
import { componentId, duration } from '../../gateway/config/units.js'
import { namePatternError } from './scan-filter.js'

/** `aa:bb:cc:dd:ee:ff`, either case; normalised to lower case by the source. */
const MAC_RE = /^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$/
const mac = z.string().regex(MAC_RE, 'must be a MAC address like "a4:c1:38:8d:18:b2"')

export const bleAllowEntrySchema = z
  .strictObject({
    /** Device address, `aa:bb:cc:dd:ee:ff` (any case). */
    mac: mac.optional(),
    /**
     * Advertised local name: a glob (`ATC_*`, `?` = one character; case-insensitive) or a regular
     * expression written `/.../flags`. A device that sends its name only in the scan response
     * matches once noble merged that response. With `mac` too, both must match.
     */
    name: z
      .string()
      .min(1)
      .max(256)
      .superRefine((p, ctx) => {
        const err = namePatternError(p)
        if (err) ctx.addIssue({ code: 'custom', message: err })
      })
      .optional(),
  })
  .refine((e) => e.mac !== undefined || e.name !== undefined, { message: 'needs "mac" or "name"' })

/** 16-byte AES key as 32 hex characters. The message never echoes the value: it is a secret. */
const bindkey = z.string().regex(/^[0-9A-Fa-f]{32}$/, 'must be 32 hex characters (a 16-byte AES key)')

export const bleSourceSchema = z
  .strictObject({
    type: z.literal('ble'),
    id: componentId,
    /**
     * Devices whose adverts are accepted; an advert matching any entry passes. Empty accepts every
     * advert a decoder recognises, from any device in radio range: a neighbour's thermometer or a
     * passing phone's iBeacon then fills the store and the uplink. List your devices in
     * production. @default []
     */
    allow: z.array(bleAllowEntrySchema).max(4096).default([]),
    /**
     * Least time between two forwarded telemetry adverts of one device, ms (or "10s"). Sensors
     * repeat an advert several times a second; the first one after the interval is forwarded and
     * the others are counted `rate_limited`. Alerts (BTHome button/dimmer events) and trigger-based
     * BTHome adverts are never held back. 0 forwards every advert. @default 10000
     */
    minIntervalMs: duration.default(10_000),
    /**
     * AES-128 keys by device MAC, for encrypted BTHome and pvvx adverts. Write
     * `${env:NAME}` to keep them out of the file. A device with a key must send encrypted adverts:
     * plaintext from it is refused as `encryption_downgrade`. @default {}
     */
    bindkeys: z.record(mac, bindkey).default({}),
    /**
     * Forward adverts that no decoder recognises, from allowed devices, as kind `ble.raw` (bytes
     * base64). Needs a non-empty `allow`: otherwise every device in range would be stored. @default false
     */
    raw: z.boolean().default(false),
    /**
     * Ask the controller to report repeated adverts of a device (noble `allowDuplicates`). Off,
     * many controllers report each address once per scan and the readings stop. @default true
     */
    duplicates: z.boolean().default(true),
    /**
     * Most readings waiting for the ingest buffer. When full, the oldest telemetry is dropped and
     * counted `queue_full`; an alert evicts telemetry instead of being dropped. @default 1000
     */
    maxQueued: z.number().int().min(1).max(100_000).default(1000),
    /** HCI adapter index (`hci1` is 1). @default noble's choice: NOBLE_HCI_DEVICE_ID, else the first adapter */
    hciDevice: z.number().int().min(0).max(31).optional(),
    /**
     * Use Bluetooth 5 extended advertising (noble `extended`), with fields up to 255 bytes. Off,
     * any advert field over the legacy 31 bytes is refused as `oversize`. @default false
     */
    extended: z.boolean().default(false),
  })
  .superRefine((c, ctx) => {
    if (c.raw && c.allow.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['raw'], message: 'raw: true needs a non-empty "allow": otherwise every advert in range is stored' })
    }
    const seen = new Set<string>()
    for (const key of Object.keys(c.bindkeys)) {
      const norm = key.toLowerCase()
      if (seen.has(norm)) ctx.addIssue({ code: 'custom', path: ['bindkeys', key], message: `duplicate bindkey for ${norm} (MACs are not case-sensitive)` })
      seen.add(norm)
    }
  })

export type BleSourceConfig = z.infer<typeof bleSourceSchema>
export type BleAllowEntry = z.infer<typeof bleAllowEntrySchema>
