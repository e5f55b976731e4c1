/**
 * AES-128-CCM with a 4-byte tag, the cipher both BTHome v2 (bthome.io/encryption) and the pvvx
 * custom firmware use for adverts. Thin wrapper over node:crypto so every failure becomes a
 * DecodeError with a stable reason.
 */
import { createDecipheriv } from 'node:crypto'
import { DecodeError } from '../../gateway/core/errors.js'

/** Key length for AES-128. */
export const AES_128_KEY_BYTES = 16
/** Both formats use a 32-bit message integrity check. */
export const MIC_BYTES = 4

/**
 * Decrypts and authenticates. Throws DecodeError `bad_bindkey` when the key is not 16 bytes and
 * `bad_mic` when authentication fails (wrong key, wrong nonce inputs, or tampered bytes); the
 * plaintext is never returned unless the tag verified.
 */
export function decryptAesCcm(
  key: Buffer,
  nonce: Buffer,
  ciphertext: Buffer,
  mic: Buffer,
  aad?: Buffer,
): Buffer {
  if (key.length !== AES_128_KEY_BYTES) {
    throw new DecodeError('bad_bindkey', `bindkey must be ${AES_128_KEY_BYTES} bytes, got ${key.length}`)
  }
  try {
    const decipher = createDecipheriv('aes-128-ccm', key, nonce, { authTagLength: MIC_BYTES })
    decipher.setAuthTag(mic)
    // CCM needs the message length before any data (NIST SP 800-38C A.2); setAAD carries it.
    decipher.setAAD(aad ?? Buffer.alloc(0), { plaintextLength: ciphertext.length })
    const plain = decipher.update(ciphertext)
    decipher.final()
    return plain
  } catch (err) {
    throw new DecodeError('bad_mic', 'AES-CCM authentication failed (wrong bindkey or corrupted advert)', {
      cause: err,
    })
  }
}
