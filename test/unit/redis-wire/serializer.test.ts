import { captureError } from '../../support/wait.js'
import { afterEach, describe, expect, it, vi } from 'vitest'

import { InvalidOptionError, MessageDecodeError } from '../../../src/errors.js'
import { MultiFernet } from '../../../src/layers/redis/fernet.js'
import { createSerializer } from '../../../src/layers/redis/serializer.js'

const VECTOR = { a: true, b: null, c: { d: [] } }
const MSGPACK_VECTOR = Buffer.from('83a161c3a162c0a16381a16490', 'hex')
const JSON_VECTOR = Buffer.from('{"a": true, "b": null, "c": {"d": []}}')
/** The 12-byte prefix from channels_redis test_sentinel.py::test_deserialize. */
const CHANNELS_PREFIX = Buffer.from('510cbb3f51bce37c44fd3900', 'hex')

afterEach(() => {
  vi.useRealTimers()
})

describe('createSerializer', () => {
  // channels_redis test_serializers.py::test_serialize / test_deserialize
  describe.each([
    ['msgpack', MSGPACK_VECTOR],
    ['json', JSON_VECTOR],
  ] as const)('%s', (format, vector) => {
    it.each([12, 8, 0])('writes %i random bytes, then the vector', (randomPrefixBytes) => {
      const serializer = createSerializer({ format, expiryMs: 60_000, randomPrefixBytes })
      const payload = serializer.encode(VECTOR)
      expect(payload).toBeInstanceOf(Buffer)
      expect(payload.length).toBe(randomPrefixBytes + vector.length)
      expect(payload.subarray(randomPrefixBytes)).toEqual(vector)
    })

    it.each([12, 8, 0])('reads the vector after a %i-byte prefix', (randomPrefixBytes) => {
      const serializer = createSerializer({ format, expiryMs: 60_000, randomPrefixBytes })
      const payload = Buffer.concat([CHANNELS_PREFIX.subarray(0, randomPrefixBytes), vector])
      expect(serializer.decode(payload)).toEqual(VECTOR)
    })

    // channels_redis test_serializers.py::test_serialization_encrypted
    it('encrypts the body when keys are set, and round-trips', () => {
      const serializer = createSerializer({
        format,
        expiryMs: 60_000,
        randomPrefixBytes: 4,
        symmetricEncryptionKeys: ['a-test-key'],
      })
      const payload = serializer.encode(VECTOR)
      const token = payload.subarray(4)
      expect(token).not.toEqual(vector)
      expect(token.toString('latin1')).toMatch(/^gAAAAA[A-Za-z0-9_-]+=*$/)
      expect(MultiFernet.fromChannelsKeys(['a-test-key']).decrypt(token)).toEqual(vector)
      expect(serializer.decode(payload)).toEqual(VECTOR)
    })
  })

  it('defaults to a 12-byte prefix', () => {
    expect(createSerializer({ format: 'msgpack', expiryMs: 1000 }).encode(VECTOR).length).toBe(12 + 13)
  })

  it('draws a different random prefix for every message, also across pool refills', () => {
    const serializer = createSerializer({ format: 'msgpack', expiryMs: 1000 })
    const prefixes = new Set<string>()
    // 12-byte prefixes from a 4 KiB pool: 2000 messages cross several refills.
    for (let i = 0; i < 2000; i++) prefixes.add(serializer.encode(VECTOR).subarray(0, 12).toString('hex'))
    expect(prefixes.size).toBe(2000)
  })

  it('takes prefixes larger than the pool straight from the CSPRNG', () => {
    const serializer = createSerializer({ format: 'msgpack', expiryMs: 1000, randomPrefixBytes: 5000 })
    const payload = serializer.encode(VECTOR)
    expect(payload.subarray(5000)).toEqual(MSGPACK_VECTOR)
    expect(payload.subarray(0, 5000).some((byte) => byte !== 0)).toBe(true)
    expect(serializer.decode(payload)).toEqual(VECTOR)
  })

  it('returns a buffer of its own for every message', () => {
    const serializer = createSerializer({ format: 'msgpack', expiryMs: 1000 })
    const first = serializer.encode({ type: 'one' })
    const copy = Buffer.from(first)
    serializer.encode({ type: 'two' })
    expect(first).toEqual(copy)
  })

  it('refuses tokens older than expiry + 10 s, as channels_redis does', () => {
    vi.useFakeTimers({ now: 1_700_000_000_000 })
    const serializer = createSerializer({ format: 'msgpack', expiryMs: 3000, symmetricEncryptionKeys: ['k'] })
    const payload = serializer.encode(VECTOR)
    vi.setSystemTime(1_700_000_013_999)
    expect(serializer.decode(payload)).toEqual(VECTOR)
    vi.setSystemTime(1_700_000_014_000)
    const error = captureError(() => serializer.decode(payload))
    expect(error).toBeInstanceOf(MessageDecodeError)
    expect((error as Error).message).toMatch(/expired: it is 14 s old and the TTL is 13 s/)
  })

  it('withExpiry gives the same keys and codec another age limit, validated as expiryMs is', () => {
    vi.useFakeTimers({ now: 1_700_000_000_000 })
    const serializer = createSerializer({ format: 'msgpack', expiryMs: 3000, symmetricEncryptionKeys: ['k'] })
    const patient = serializer.withExpiry(60_000)
    const payload = serializer.encode(VECTOR)
    vi.setSystemTime(1_700_000_014_000)
    expect(() => serializer.decode(payload)).toThrow(MessageDecodeError)
    expect(patient.decode(payload)).toEqual(VECTOR)
    // Either one reads what the other wrote, and each keeps its own limit.
    expect(serializer.decode(patient.encode(VECTOR))).toEqual(VECTOR)
    expect(() => patient.withExpiry(3000).decode(payload)).toThrow(MessageDecodeError)
    expect(Object.isFrozen(patient)).toBe(true)
    expect(() => serializer.withExpiry(0)).toThrow(InvalidOptionError)
  })

  it('decodes with any listed key, so peers can rotate', () => {
    const old = createSerializer({ format: 'msgpack', expiryMs: 60_000, symmetricEncryptionKeys: ['old'] })
    const rotating = createSerializer({ format: 'msgpack', expiryMs: 60_000, symmetricEncryptionKeys: ['new', 'old'] })
    expect(rotating.decode(old.encode(VECTOR))).toEqual(VECTOR)
    expect(() => old.decode(rotating.encode(VECTOR))).toThrow(MessageDecodeError)
  })

  it.each([
    ['a payload no longer than the prefix', Buffer.alloc(12), /no longer than its 12-byte random prefix/],
    ['a garbage body', Buffer.concat([CHANNELS_PREFIX, Buffer.from('c1c1', 'hex')]), /msgpack/],
    ['a truncated body', Buffer.concat([CHANNELS_PREFIX, MSGPACK_VECTOR.subarray(0, 5)]), /not valid msgpack/],
  ])('refuses %s with MessageDecodeError', (_, payload, message) => {
    const error = captureError(() => createSerializer({ format: 'msgpack', expiryMs: 1000 }).decode(payload))
    expect(error).toBeInstanceOf(MessageDecodeError)
    expect((error as Error).message).toMatch(message)
  })

  it('gives the reason as the cause', () => {
    const error = captureError(() =>
      createSerializer({ format: 'msgpack', expiryMs: 1000 }).decode(
        Buffer.concat([CHANNELS_PREFIX, MSGPACK_VECTOR.subarray(0, 5)]),
      ),
    )
    expect((error as Error).cause).toBeInstanceOf(Error)
  })

  it('refuses a cleartext payload when keys are set, and a token when they are not', () => {
    const clear = createSerializer({ format: 'msgpack', expiryMs: 60_000 })
    const encrypted = createSerializer({ format: 'msgpack', expiryMs: 60_000, symmetricEncryptionKeys: ['k'] })
    expect(() => encrypted.decode(clear.encode(VECTOR))).toThrow(/urlsafe base64/)
    expect(() => clear.decode(encrypted.encode(VECTOR))).toThrow(MessageDecodeError)
  })

  it('wraps a stack overflow on an absurdly deep body as MessageDecodeError', () => {
    // 200k nested one-element arrays inside {"v": ...}: far beyond any stack.
    const depth = 200_000
    const body = Buffer.concat([Buffer.from('81a176', 'hex'), Buffer.alloc(depth, 0x91), Buffer.from([0xc0])])
    const error = captureError(() =>
      createSerializer({ format: 'msgpack', expiryMs: 1000, randomPrefixBytes: 0 }).decode(body),
    )
    expect(error).toBeInstanceOf(MessageDecodeError)
  })

  it.each([
    ['format', { format: 'yaml', expiryMs: 1000 }],
    ['expiryMs', { format: 'msgpack', expiryMs: 0 }],
    ['expiryMs', { format: 'msgpack', expiryMs: Number.NaN }],
    ['randomPrefixBytes', { format: 'msgpack', expiryMs: 1000, randomPrefixBytes: -1 }],
    ['randomPrefixBytes', { format: 'msgpack', expiryMs: 1000, randomPrefixBytes: 1.5 }],
    ['symmetricEncryptionKeys', { format: 'msgpack', expiryMs: 1000, symmetricEncryptionKeys: [] }],
    ['symmetricEncryptionKeys', { format: 'msgpack', expiryMs: 1000, symmetricEncryptionKeys: 'one-key' }],
  ])('refuses a bad `%s`', (option, options) => {
    const error = captureError(() => createSerializer(options as unknown as Parameters<typeof createSerializer>[0]))
    expect(error).toBeInstanceOf(InvalidOptionError)
    expect((error as InvalidOptionError).option).toBe(option)
  })

  it('returns a frozen serializer', () => {
    expect(Object.isFrozen(createSerializer({ format: 'json', expiryMs: 1000 }))).toBe(true)
  })
})
