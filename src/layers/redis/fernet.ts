import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

import { InvalidOptionError, MessageDecodeError } from '../../errors.js'

/**
 * Fernet (https://github.com/fernet/spec) as Python's `cryptography` implements it, with `MultiFernet`'s key
 * rotation: encrypt with the first key, decrypt with whichever key signed the token.
 *
 * Token = urlsafe base64 WITH `=` padding of
 * `0x80 | 8-byte big-endian Unix seconds | 16-byte IV | AES-128-CBC ciphertext (PKCS7) | HMAC-SHA256 of all before`.
 *
 * Errors never carry key material, plaintext or the token.
 */

const VERSION = 0x80
const HEADER_BYTES = 1 + 8 + 16
const HMAC_BYTES = 32
const BLOCK_BYTES = 16
/** `cryptography`'s `_MAX_CLOCK_SKEW`: with a TTL, a token stamped more than this far ahead is refused. */
const MAX_CLOCK_SKEW_S = 60
const TOKEN_CHARS = /^[A-Za-z0-9_-]*={0,2}$/

interface FernetKey {
  readonly signingKey: Buffer
  readonly encryptionKey: Buffer
}

export interface FernetDecryptOptions {
  /** Refuse tokens older than this many seconds (or stamped more than 60 s ahead). No TTL: any age passes. */
  readonly ttlS?: number
  /** The current Unix time in seconds; defaults to the clock. */
  readonly nowS?: number
}

/**
 * Fernet with key rotation, wire-compatible with `cryptography.fernet.MultiFernet`.
 *
 * @example
 * ```ts
 * // channels_redis's symmetric_encryption_keys: each key is SHA-256(utf-8(key)) as a Fernet key.
 * const fernet = MultiFernet.fromChannelsKeys(['new-key', 'old-key'])
 * const token = fernet.encrypt(new TextEncoder().encode('hi'))
 * fernet.decrypt(token, { ttlS: 70 }) // -> the plaintext bytes
 * ```
 */
export class MultiFernet {
  // A private field: util.inspect and JSON.stringify never show key material.
  readonly #keys: readonly FernetKey[]

  private constructor(keys: readonly FernetKey[]) {
    this.#keys = keys
  }

  /** Keys as channels_redis derives them from `symmetric_encryption_keys`: `SHA-256(utf-8(key))`. */
  static fromChannelsKeys(keys: readonly string[]): MultiFernet {
    checkKeyList(keys, 'symmetricEncryptionKeys')
    return new MultiFernet(keys.map((key) => splitKey(createHash('sha256').update(key, 'utf8').digest())))
  }

  /** Python Fernet keys: urlsafe base64 of 32 random bytes, as `Fernet.generate_key()` makes them. */
  static fromFernetKeys(keys: readonly string[]): MultiFernet {
    checkKeyList(keys, 'fernetKeys')
    return new MultiFernet(
      keys.map((key, i) => {
        const raw = TOKEN_CHARS.test(key) && key.length === 44 ? Buffer.from(key, 'base64') : undefined
        if (raw?.length !== 32) {
          const shape = 'a value that is not a Fernet key'
          throw new InvalidOptionError(`fernetKeys[${i}]`, 'urlsafe base64 of 32 bytes (44 characters)', shape)
        }
        return splitKey(raw)
      }),
    )
  }

  /** Encrypts with the first key; returns the token (ASCII). */
  encrypt(plaintext: Uint8Array, nowS: number = Date.now() / 1000): string {
    const key = this.#keys[0]
    if (key === undefined) throw new Error('unreachable: MultiFernet has no key')
    const iv = randomBytes(BLOCK_BYTES)
    const cipher = createCipheriv('aes-128-cbc', key.encryptionKey, iv)
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()])
    const data = Buffer.allocUnsafe(HEADER_BYTES + ciphertext.length + HMAC_BYTES)
    data[0] = VERSION
    data.writeBigUInt64BE(BigInt(Math.floor(nowS)), 1)
    iv.copy(data, 9)
    ciphertext.copy(data, HEADER_BYTES)
    const signed = data.subarray(0, data.length - HMAC_BYTES)
    createHmac('sha256', key.signingKey).update(signed).digest().copy(data, signed.length)
    const base64 = data.toString('base64url')
    return base64 + '='.repeat((4 - (base64.length % 4)) % 4)
  }

  /** Decrypts a token from any of the keys; throws `MessageDecodeError` when it is malformed, expired or forged. */
  decrypt(token: string | Uint8Array, options: FernetDecryptOptions = {}): Buffer {
    const data = parseToken(token)
    if (options.ttlS !== undefined) checkAge(data, options.ttlS, Math.floor(options.nowS ?? Date.now() / 1000))
    const signed = data.subarray(0, data.length - HMAC_BYTES)
    const mac = data.subarray(data.length - HMAC_BYTES)
    // The first key whose MAC matches wins, as in MultiFernet; the compare itself is constant-time.
    const match = this.#keys.find((key) =>
      timingSafeEqual(createHmac('sha256', key.signingKey).update(signed).digest(), mac),
    )
    if (match === undefined) {
      throw invalid(
        `its signature matches none of the ${this.#keys.length} configured key(s); every peer needs the same ` +
          '`symmetricEncryptionKeys` (during a rotation, list the new key first and keep the old one)',
      )
    }
    const ciphertext = data.subarray(HEADER_BYTES, data.length - HMAC_BYTES)
    if (ciphertext.length % BLOCK_BYTES !== 0) throw invalid('its ciphertext is not a whole number of AES blocks')
    try {
      const decipher = createDecipheriv('aes-128-cbc', match.encryptionKey, data.subarray(9, HEADER_BYTES))
      return Buffer.concat([decipher.update(ciphertext), decipher.final()])
    } catch (cause) {
      throw invalid('its ciphertext has bad padding', cause)
    }
  }
}

function checkKeyList(keys: readonly string[], option: string): void {
  const value: unknown = keys
  if (Array.isArray(value) && value.length > 0 && value.every((key) => typeof key === 'string' && key !== '')) return
  // Described by shape only: the values are key material and must reach no error message or log.
  const shape = !Array.isArray(value)
    ? `a ${typeof value}`
    : value.length === 0
      ? 'an empty array (omit the option for cleartext)'
      : 'an array holding an empty or non-string key'
  throw new InvalidOptionError(option, 'a non-empty array of non-empty strings', shape)
}

function splitKey(raw: Buffer): FernetKey {
  return { signingKey: raw.subarray(0, 16), encryptionKey: raw.subarray(16, 32) }
}

function parseToken(token: string | Uint8Array): Buffer {
  const text =
    typeof token === 'string' ? token : Buffer.from(token.buffer, token.byteOffset, token.byteLength).toString('latin1')
  // Python's urlsafe_b64decode insists on padding; Node's decoder would silently skip stray characters.
  if (text.length % 4 !== 0 || !TOKEN_CHARS.test(text)) throw invalid('it is not urlsafe base64 with padding')
  const data = Buffer.from(text, 'base64')
  if (data[0] !== VERSION) throw invalid('it does not start with the Fernet version byte 0x80')
  if (data.length < HEADER_BYTES + BLOCK_BYTES + HMAC_BYTES) throw invalid('it is too short')
  return data
}

function checkAge(data: Buffer, ttlS: number, nowS: number): void {
  const stampS = Number(data.readBigUInt64BE(1))
  // cryptography's order and comparisons: expired if stamp + ttl < now; from the future if now + 60 < stamp.
  if (stampS + ttlS < nowS) {
    throw invalid(`it expired: it is ${nowS - stampS} s old and the TTL is ${ttlS} s`)
  }
  if (nowS + MAX_CLOCK_SKEW_S < stampS) {
    throw invalid(
      `it is stamped ${stampS - nowS} s in the future (over the ${MAX_CLOCK_SKEW_S} s allowed); check the clocks`,
    )
  }
}

function invalid(reason: string, cause?: unknown): MessageDecodeError {
  return new MessageDecodeError(`Cannot decrypt the message: ${reason}`, cause === undefined ? undefined : { cause })
}
