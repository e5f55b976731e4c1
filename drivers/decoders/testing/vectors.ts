/**
 * Test support: loads the shared vector files at test time (ARCHITECTURE.md section 6) and builds
 * adverts from their hex. Paths resolve from the repo root, so tests run from any cwd.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { BleAdvert } from '../advert.js'

/** /work/main (three levels above drivers/decoders/testing). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')

/** Parses ../shared/vectors/<name>.json relative to the repo root. */
export function loadVectors<T = any>(name: string): T {
  return JSON.parse(readFileSync(path.resolve(repoRoot, `../shared/vectors/${name}.json`), 'utf8')) as T
}

/** Hex (any case, optional 0x) to Buffer. */
export const hexBuf = (h: string): Buffer => Buffer.from(h.replace(/^0x/i, ''), 'hex')

/** An advert with one service data entry. */
export function svcAdvert(uuid: string, dataHex: string, address = 'a4:c1:38:8d:18:b2', extra: Partial<BleAdvert> = {}): BleAdvert {
  return { address: address.toLowerCase(), serviceData: [{ uuid, data: hexBuf(dataHex) }], timeMs: 1_700_000_000_000, ...extra }
}

/** An advert with manufacturer data only. */
export function mfgAdvert(mfgHex: string, address = 'cb:b8:33:4c:88:4f', extra: Partial<BleAdvert> = {}): BleAdvert {
  return { address, serviceData: [], manufacturerData: hexBuf(mfgHex), timeMs: 1_700_000_000_000, ...extra }
}

/** A bindkey map for one device. */
export function keys(mac: string, keyHex: string): Map<string, Buffer> {
  return new Map([[mac.toLowerCase(), hexBuf(keyHex)]])
}

/** `it.each` rows `[label, item]` from a vector array (typed so the callback type-checks). */
export function rows(items: any[], label: (item: any, index: number) => string = (i) => String(i.id)): Array<[string, any]> {
  return items.map((item, index) => [label(item, index), item])
}
