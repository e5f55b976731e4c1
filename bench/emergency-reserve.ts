/**
 * Puts the store's emergency disk reserve (gateway/store/reserve-file.ts) in place before a
 * measurement, as on a gateway that has run before: the store writes it once, at its first start,
 * and keeps it. Without this, a run's "bytes written per event" would carry that one-time file
 * (8 MiB, 420 bytes per event over 20,000 events). The store takes a file of the right size as its
 * reserve and writes nothing.
 */
import { mkdirSync, statfsSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { reserveFileBytes, reserveFilePath } from '../gateway/store/reserve-file.js'

/** For a gateway whose `gateway.dataDir` is `dataDir` (its store lives in `<dataDir>/queue`). */
export function placeEmergencyReserve(dataDir: string): void {
  mkdirSync(dataDir, { recursive: true })
  const fs = statfsSync(dataDir)
  const bytes = reserveFileBytes(fs.blocks * fs.bsize)
  if (bytes > 0) writeFileSync(reserveFilePath(path.join(dataDir, 'queue')), Buffer.alloc(bytes))
}
