/**
 * BTHome v2 encryption (bthome.io/encryption, home-assistant/bthome.io src/encryption.html):
 *
 *   service data = devinfo | [MAC(6), only with devinfo bit 1] | ciphertext | counter (uint32 LE) | MIC(4)
 *   nonce (13)   = MAC (6, printed order) | UUID 0xFCD2 as on air (D2 FC) | devinfo | counter (4, LE)
 *   AES-128-CCM, 4-byte tag, no additional data.
 *
 * `encryptBthomePayload` exists for tests and the firmware simulator, so both directions share one
 * definition of the nonce.
 */
import { createCipheriv } from 'node:crypto'
import { DecodeError } from '../../gateway/core/errors.js'
import { AES_128_KEY_BYTES, MIC_BYTES, decryptAesCcm } from './aes-ccm.js'
import { need } from './bytes.js'

const COUNTER_BYTES = 4
/** 0xFCD2 little-endian, as it appears on air. */
const UUID_ON_AIR = Buffer.from([0xd2, 0xfc])

/** Builds the 13-byte CCM nonce. `mac` is 6 bytes in printed (big-endian) order. */
export function bthomeNonce(mac: Buffer, deviceInfo: number, counter: Buffer): Buffer {
  return Buffer.concat([mac, UUID_ON_AIR, Buffer.from([deviceInfo]), counter])
}

/** Result of a successful decryption. */
export interface BthomePlaintext {
  /** Decrypted object bytes (what would follow devinfo in an unencrypted advert). */
  objects: Buffer
  /** The 32-bit encryption counter; a receiver may use it to reject replays. */
  counter: number
}

/**
 * Decrypts the encrypted part of a BTHome service data that starts at `offset` (after devinfo
 * and the optional MAC). Throws DecodeError `truncated` when fewer than counter+MIC bytes remain,
 * `bad_bindkey` for a key that is not 16 bytes, `bad_mic` when the tag does not verify.
 */
export function decryptBthomePayload(serviceData: Buffer, offset: number, mac: Buffer, bindkey: Buffer): BthomePlaintext {
  need(serviceData, offset, COUNTER_BYTES + MIC_BYTES, 'BTHome encrypted payload (counter + MIC)')
  const end = serviceData.length
  const ciphertext = serviceData.subarray(offset, end - COUNTER_BYTES - MIC_BYTES)
  const counterBytes = serviceData.subarray(end - COUNTER_BYTES - MIC_BYTES, end - MIC_BYTES)
  const mic = serviceData.subarray(end - MIC_BYTES)
  const nonce = bthomeNonce(mac, serviceData[0], counterBytes)
  const objects = decryptAesCcm(bindkey, nonce, ciphertext, mic)
  return { objects, counter: counterBytes.readUInt32LE(0) }
}

/**
 * Encrypts BTHome objects into a complete service data (without the UUID). `deviceInfo` must have
 * bit 0 set; when bit 1 is set the MAC is inserted (reversed) after devinfo as bthome-ble expects.
 * Throws DecodeError `bad_bindkey` on a wrong-sized key (the caller's configuration error).
 */
export function encryptBthomePayload(
  objects: Buffer,
  mac: Buffer,
  bindkey: Buffer,
  counter: number,
  deviceInfo = 0x41,
): Buffer {
  if (bindkey.length !== AES_128_KEY_BYTES) {
    throw new DecodeError('bad_bindkey', `bindkey must be ${AES_128_KEY_BYTES} bytes, got ${bindkey.length}`)
  }
  const counterBytes = Buffer.alloc(COUNTER_BYTES)
  counterBytes.writeUInt32LE(counter >>> 0, 0)
  const cipher = createCipheriv('aes-128-ccm', bindkey, bthomeNonce(mac, deviceInfo, counterBytes), {
    authTagLength: MIC_BYTES,
  })
  cipher.setAAD(Buffer.alloc(0), { plaintextLength: objects.length })
  const ciphertext = Buffer.concat([cipher.update(objects), cipher.final()])
  const macPart = deviceInfo & 0x02 ? Buffer.from(mac).reverse() : Buffer.alloc(0)
  return Buffer.concat([Buffer.from([deviceInfo]), macPart, ciphertext, counterBytes, cipher.getAuthTag()])
}
