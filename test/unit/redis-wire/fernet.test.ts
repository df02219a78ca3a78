import { captureError } from '../../support/wait.js'
import { createCipheriv, createDecipheriv, createHash, createHmac } from 'node:crypto'
import { inspect } from 'node:util'

import { describe, expect, it } from 'vitest'

import { InvalidOptionError, MessageDecodeError } from '../../../src/errors.js'
import { MultiFernet } from '../../../src/layers/redis/fernet.js'

const KEY_A = 'key-A-with-at-least-32-bytes-of-entropy-0001'
const KEY_B = 'key-B-with-at-least-32-bytes-of-entropy-0002'
const NOW_S = 1_700_000_000
const plaintext = Buffer.from('{"type": "chat.message", "text": "secret-plaintext"}')

/** channels_redis: Fernet key = urlsafe_b64encode(sha256(key)); signing = first 16 bytes, AES = last 16. */
function channelsKey(key: string): { signingKey: Buffer; encryptionKey: Buffer } {
  const digest = createHash('sha256').update(key).digest()
  return { signingKey: digest.subarray(0, 16), encryptionKey: digest.subarray(16) }
}

interface ForgeOptions {
  key?: string
  stampS?: number
  version?: number
  /** Raw ciphertext to sign as is (bypasses AES), e.g. with bad padding. */
  ciphertext?: Buffer
}

/** Builds a token by hand from the Fernet spec, independently of the code under test. */
function forge({ key = KEY_A, stampS = NOW_S, version = 0x80, ciphertext }: ForgeOptions = {}): string {
  const { signingKey } = channelsKey(key)
  const iv = Buffer.alloc(16, 7)
  const body = ciphertext ?? encryptWithIv(key, iv)
  const stamp = Buffer.alloc(8)
  stamp.writeBigUInt64BE(BigInt(stampS))
  const signed = Buffer.concat([Buffer.from([version]), stamp, iv, body])
  const token = Buffer.concat([signed, createHmac('sha256', signingKey).update(signed).digest()])
  return token.toString('base64').replaceAll('+', '-').replaceAll('/', '_')
}

function encryptWithIv(key: string, iv: Buffer): Buffer {
  const cipher = createCipheriv('aes-128-cbc', channelsKey(key).encryptionKey, iv)
  return Buffer.concat([cipher.update(plaintext), cipher.final()])
}

describe('MultiFernet', () => {
  it('decrypts the Fernet spec vector (verify.json) with a Python-format key', () => {
    const fernet = MultiFernet.fromFernetKeys(['cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4='])
    const token = 'gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVmpU4IwqDA=='
    const nowS = Date.parse('1985-10-26T01:20:01-07:00') / 1000
    expect(fernet.decrypt(token, { ttlS: 60, nowS }).toString()).toBe('hello')
    // The spec's "expired TTL" case: the same token 61+ seconds later.
    expect(() => fernet.decrypt(token, { ttlS: 60, nowS: nowS + 60 })).toThrow(/expired/)
  })

  it("lays the token out as the spec says, with channels_redis's key derivation", () => {
    const token = MultiFernet.fromChannelsKeys([KEY_A]).encrypt(plaintext, NOW_S + 0.9)
    expect(token).toMatch(/^[A-Za-z0-9_-]+=*$/)
    expect(token.length % 4).toBe(0)
    const data = Buffer.from(token, 'base64')
    expect(data[0]).toBe(0x80)
    expect(data.readBigUInt64BE(1)).toBe(BigInt(NOW_S))
    const { signingKey, encryptionKey } = channelsKey(KEY_A)
    const signed = data.subarray(0, data.length - 32)
    expect(data.subarray(data.length - 32)).toEqual(createHmac('sha256', signingKey).update(signed).digest())
    const decipher = createDecipheriv('aes-128-cbc', encryptionKey, data.subarray(9, 25))
    expect(Buffer.concat([decipher.update(data.subarray(25, data.length - 32)), decipher.final()])).toEqual(plaintext)
  })

  it('pads the base64 with "=" as Python does', () => {
    const fernet = MultiFernet.fromChannelsKeys([KEY_A])
    // 57 + 16 * blocks bytes: 73 -> 1 pad char, 89 -> 1, 105 -> 0; lengths cycle through every padding.
    const pads = new Set<number>()
    for (let n = 0; n < 48; n++) pads.add(/=*$/.exec(fernet.encrypt(new Uint8Array(n), NOW_S))![0].length)
    expect([...pads].sort()).toEqual([0, 1, 2])
  })

  it('uses a fresh IV per token', () => {
    const fernet = MultiFernet.fromChannelsKeys([KEY_A])
    expect(fernet.encrypt(plaintext, NOW_S)).not.toBe(fernet.encrypt(plaintext, NOW_S))
  })

  it('encrypts with the first key and decrypts with any (rotation)', () => {
    const rotated = MultiFernet.fromChannelsKeys([KEY_A, KEY_B])
    const token = rotated.encrypt(plaintext, NOW_S)
    expect(MultiFernet.fromChannelsKeys([KEY_A]).decrypt(token)).toEqual(plaintext)
    expect(() => MultiFernet.fromChannelsKeys([KEY_B]).decrypt(token)).toThrow(MessageDecodeError)
    expect(rotated.decrypt(forge({ key: KEY_B }))).toEqual(plaintext)
    expect(MultiFernet.fromChannelsKeys([KEY_B, KEY_A]).decrypt(token)).toEqual(plaintext)
  })

  it('accepts the token as ASCII bytes, e.g. straight from Redis', () => {
    const fernet = MultiFernet.fromChannelsKeys([KEY_A])
    const bytes = Buffer.concat([Buffer.from('prefix'), Buffer.from(fernet.encrypt(plaintext))]).subarray(6)
    expect(fernet.decrypt(bytes)).toEqual(plaintext)
  })

  describe('with a TTL (cryptography semantics)', () => {
    const fernet = MultiFernet.fromChannelsKeys([KEY_A])
    const token = forge({ stampS: NOW_S })

    it('accepts a token exactly ttl seconds old and refuses one a second older', () => {
      expect(fernet.decrypt(token, { ttlS: 70, nowS: NOW_S + 70 })).toEqual(plaintext)
      expect(() => fernet.decrypt(token, { ttlS: 70, nowS: NOW_S + 71 })).toThrow(
        /expired: it is 71 s old and the TTL is 70 s/,
      )
    })

    it('accepts up to 60 s of clock skew into the future and no more', () => {
      expect(fernet.decrypt(token, { ttlS: 70, nowS: NOW_S - 60 })).toEqual(plaintext)
      expect(() => fernet.decrypt(token, { ttlS: 70, nowS: NOW_S - 61 })).toThrow(/61 s in the future/)
    })

    it('compares whole seconds: the clock is floored as int(time.time())', () => {
      expect(fernet.decrypt(token, { ttlS: 70, nowS: NOW_S + 70.99 })).toEqual(plaintext)
    })

    it('checks no age at all without a TTL', () => {
      expect(fernet.decrypt(token, { nowS: NOW_S + 10 ** 9 })).toEqual(plaintext)
      expect(fernet.decrypt(token, { nowS: 0 })).toEqual(plaintext)
    })

    it('uses the clock when nowS is omitted', () => {
      const fresh = fernet.encrypt(plaintext)
      expect(fernet.decrypt(fresh, { ttlS: 5 })).toEqual(plaintext)
      expect(() => fernet.decrypt(token, { ttlS: 5 })).toThrow(/expired/)
    })
  })

  describe('refuses a bad token with MessageDecodeError', () => {
    const fernet = MultiFernet.fromChannelsKeys([KEY_A, KEY_B])
    const good = forge()
    const flip = (token: string, index: number): string => {
      const data = Buffer.from(token, 'base64')
      data[index] = data[index]! ^ 1
      return data.toString('base64url') + '='.repeat((4 - (data.toString('base64url').length % 4)) % 4)
    }

    it.each([
      ['signed by an unknown key', () => forge({ key: 'key-C' }), /matches none of the 2 configured key\(s\)/],
      ['with a flipped ciphertext bit', () => flip(good, 30), /matches none/],
      ['with a flipped timestamp bit', () => flip(good, 8), /matches none/],
      ['with a flipped MAC bit', () => flip(good, Buffer.from(good, 'base64').length - 1), /matches none/],
      ['with another version byte', () => forge({ version: 0x81 }), /version byte 0x80/],
      ['without its padding', () => good.replace(/=+$/, ''), /urlsafe base64 with padding/],
      [
        'with standard-alphabet or foreign characters',
        () => `${good.slice(0, 8)}+/${good.slice(10)}`,
        /urlsafe base64/,
      ],
      ['with whitespace', () => `${good.slice(0, 8)}\n${good.slice(9)}`, /urlsafe base64/],
      ['that is empty', () => '', /version byte/],
      ['that is too short', () => Buffer.from([0x80, ...new Uint8Array(60)]).toString('base64'), /too short/],
      [
        'whose ciphertext has bad padding (correctly signed)',
        () => forge({ ciphertext: Buffer.alloc(16, 3) }),
        /bad padding/,
      ],
      [
        'whose ciphertext is not whole blocks (correctly signed)',
        () => forge({ ciphertext: Buffer.alloc(20, 3) }),
        /not a whole number of AES blocks/,
      ],
      [
        'decrypting under another AES key (correctly signed)',
        () => forge({ ciphertext: encryptWithIv(KEY_B, Buffer.alloc(16, 7)) }),
        /bad padding/,
      ],
    ])('%s', (_, makeToken, reason) => {
      const error = captureError(() => fernet.decrypt(makeToken()))
      expect(error).toBeInstanceOf(MessageDecodeError)
      expect((error as Error).message).toMatch(reason)
      // Neither the keys, nor the plaintext, nor the token reach the message.
      const shown = `${(error as Error).message} ${String(((error as Error).cause as Error | undefined)?.message)}`
      for (const secret of [KEY_A, KEY_B, 'secret-plaintext', makeToken().slice(0, 20) || 'never-empty']) {
        expect(shown).not.toContain(secret)
      }
    })
  })

  it('keeps key material out of inspect and JSON', () => {
    const fernet = MultiFernet.fromChannelsKeys([KEY_A])
    const digestHex = createHash('sha256').update(KEY_A).digest('hex')
    const shown = `${inspect(fernet, { showHidden: true, depth: 5 })} ${JSON.stringify(fernet)}`
    expect(shown).not.toContain(KEY_A)
    expect(shown).not.toContain(digestHex.slice(0, 16))
    expect(shown).not.toMatch(/Buffer|Uint8Array/)
  })

  it.each([
    ['an empty list', [], /got "an empty array \(omit the option for cleartext\)"/],
    ['a bare string (the classic Python mistake)', KEY_A, /got "a string"/],
    ['an empty key', [KEY_A, ''], /got "an array holding an empty or non-string key"/],
    ['a non-string key', [KEY_A, 42], /got "an array holding an empty or non-string key"/],
  ])('refuses %s without echoing keys', (_, keys, message) => {
    const error = captureError(() => MultiFernet.fromChannelsKeys(keys as readonly string[]))
    expect(error).toBeInstanceOf(InvalidOptionError)
    expect((error as Error).message).toMatch(/^Expected `symmetricEncryptionKeys` to be a non-empty array/)
    expect((error as Error).message).toMatch(message)
    expect((error as Error).message).not.toContain(KEY_A)
  })

  it('refuses a malformed Python Fernet key', () => {
    expect(() => MultiFernet.fromFernetKeys(['too-short='])).toThrow(/`fernetKeys\[0\]` to be urlsafe base64 of 32/)
    expect(() => MultiFernet.fromFernetKeys([`${'A'.repeat(43)}!`])).toThrow(InvalidOptionError)
  })
})
