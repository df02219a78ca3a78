import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

import { beforeAll, describe, expect, it } from 'vitest'

import { MessageDecodeError } from '../../../src/errors.js'
import { MultiFernet } from '../../../src/layers/redis/fernet.js'
import { createSerializer, type SerializerOptions } from '../../../src/layers/redis/serializer.js'
import { DEBIAN_PYTHON, ensureDebianPythonPackages } from '../../setup/python-packages.js'

/**
 * Cross-language proof against the real thing: Debian's python3 with msgpack and cryptography, running
 * channels_redis's own serializer logic (BaseMessageSerializer.serialize / deserialize, 4.x). One Python process
 * does every case: it decodes what Node wrote and encodes what Node then reads.
 */

const KEY_A = 'interop-key-A-0123456789abcdef0123456789abcdef'
const KEY_B = 'interop-key-B-0123456789abcdef0123456789abcdef'
const KEY_UNKNOWN = 'interop-key-C-known-to-nobody-in-node-000000'
const EXPIRY_S = 60

// channels_redis.serializers, inlined: strip the random prefix, decrypt with ttl = expiry + 10, decode; and back.
const PYTHON_SCRIPT = String.raw`
import base64, hashlib, json, random, sys, time
import msgpack
from cryptography.fernet import Fernet, MultiFernet

def crypter(keys):
    return MultiFernet([Fernet(base64.urlsafe_b64encode(hashlib.sha256(k.encode("utf-8")).digest())) for k in keys])

def untag(v):
    if isinstance(v, dict):
        if list(v) == ["$bytes"]: return base64.b64decode(v["$bytes"])
        if list(v) == ["$float"]: return float(v["$float"])
        return {k: untag(x) for k, x in v.items()}
    if isinstance(v, list): return [untag(x) for x in v]
    return v

def tag(v):
    if isinstance(v, bytes): return {"$bytes": base64.b64encode(v).decode()}
    if isinstance(v, float): return {"$float": v}
    if isinstance(v, dict): return {k: tag(x) for k, x in v.items()}
    if isinstance(v, list): return [tag(x) for x in v]
    return v

request = json.load(sys.stdin)
decoded = {}
for case in request["decode"]:
    try:
        body = base64.b64decode(case["payload"])[12:]
        if case["keys"]:
            body = crypter(case["keys"]).decrypt(body, case["expiry"] + 10)
        if case["format"] == "msgpack":
            value = msgpack.unpackb(body)
            again = msgpack.packb(value)
        else:
            value = json.loads(body.decode("utf-8"))
            again = json.dumps(value).encode("utf-8")
        decoded[case["id"]] = {"value": tag(value), "body": body.hex(), "again": again.hex()}
    except Exception as error:
        decoded[case["id"]] = {"error": type(error).__name__}
encoded = {}
for case in request["encode"]:
    value = untag(case["value"])
    body = msgpack.packb(value) if case["format"] == "msgpack" else json.dumps(value).encode("utf-8")
    if case["keys"]:
        body = crypter(case["keys"]).encrypt_at_time(body, int(time.time()) + case["shiftS"])
    payload = random.getrandbits(8 * 12).to_bytes(12, "big") + body
    encoded[case["id"]] = base64.b64encode(payload).decode()
json.dump({"decoded": decoded, "encoded": encoded}, sys.stdout)
`

type Tagged = null | boolean | number | string | Tagged[] | { [key: string]: Tagged }
type Format = 'msgpack' | 'json'

interface DecodeCase {
  id: string
  format: Format
  keys: string[]
  expiry: number
  payload: string
}
interface EncodeCase {
  id: string
  format: Format
  keys: string[]
  shiftS: number
  value: Tagged
}
type PythonDecoded = { value: Tagged; body: string; again: string } | { error: string }
interface PythonReply {
  decoded: Record<string, PythonDecoded>
  encoded: Record<string, string>
}

/** JSON for the trip to Python: bytes and floats are tagged, since JSON alone cannot tell 1.0 from 1. */
function tag(value: unknown): Tagged {
  if (value instanceof Uint8Array) return { $bytes: Buffer.from(value).toString('base64') }
  // The codec's rule: safe integers go out as ints, every other number as float64.
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : { $float: value }
  if (Array.isArray(value)) return value.map(tag)
  // fromEntries defines keys, so a "__proto__" key stays data.
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, tag(item)]))
  }
  if (typeof value === 'string' || typeof value === 'boolean' || value === null) return value
  throw new Error(`cannot tag ${typeof value}`)
}

const bytes = (...values: number[]): Uint8Array => new Uint8Array(values)
const withProto = (value: Record<string, unknown>): Record<string, unknown> =>
  JSON.parse(`{"__proto__": {"polluted": true}, ${JSON.stringify(value).slice(1)}`) as Record<string, unknown>

const NODE_MESSAGES: Record<string, Record<string, unknown>> = {
  vector: { a: true, b: null, c: { d: [] } },
  chat: { type: 'chat.message', text: 'héllo wörld 😀 中文', __asgi_channel__: ['specific.abc!def'] },
  numbers: {
    type: 'test.numbers',
    floats: [1.5, -0.25, 0.1, 1e300, 5e-324, -1e-7],
    ints: [0, 1, 127, 128, 255, 256, 65535, 65536, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1],
    negatives: [-1, -32, -33, -128, -129, -32768, -32769, -(2 ** 31), -(2 ** 31) - 1, -(2 ** 53 - 1)],
  },
  largeInts: { type: 'test.large', values: [2 ** 32, 2 ** 40, 2 ** 53 - 1] },
  bytes: {
    type: 'test.bytes',
    all: new Uint8Array(Array.from({ length: 256 }, (_, i) => i)),
    empty: new Uint8Array(0),
    nested: { deeper: { list: [bytes(1, 2), bytes(255)] } },
    big: new Uint8Array(70_000).fill(7),
  },
  strings: {
    type: 'test.strings',
    s31: 'x'.repeat(31),
    s32: 'x'.repeat(32),
    s255: 'é'.repeat(127) + 'x',
    s256: 'x'.repeat(256),
    s65536: 'y'.repeat(65_536),
    clé: 'ключ',
    emoji: '😀👍🏽',
  },
  maps: {
    type: 'test.maps',
    m15: Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`k${i}`, i])),
    m16: Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, [i]])),
    a16: Array.from({ length: 16 }, (_, i) => ({ i })),
    empty: {},
    emptyList: [],
  },
  proto: withProto({ type: 'test.proto', ok: true }),
}

const JSON_MESSAGES: Record<string, Record<string, unknown>> = {
  vector: { a: true, b: null, c: { d: [] } },
  chat: { type: 'chat.message', text: 'héllo \u007f "quoted" \\ 😀', n: [1, -2, 1.5], ok: false },
}

/** Which serializer Node uses and which keys Python decrypts with, per variant. */
const VARIANTS = {
  clear: { node: undefined, python: [] },
  // Node encrypts with its first key, A; Python lists B first, so it must fall through to A.
  encrypted: { node: [KEY_A, KEY_B], python: [KEY_B, KEY_A] },
} as const

function nodeSerializer(format: Format, keys?: readonly string[]) {
  const options: SerializerOptions = { format, expiryMs: EXPIRY_S * 1000, symmetricEncryptionKeys: keys }
  return createSerializer(options)
}

function buildDecodeCases(): { cases: DecodeCase[]; bodies: Map<string, string> } {
  const cases: DecodeCase[] = []
  const bodies = new Map<string, string>()
  for (const [variant, keys] of Object.entries(VARIANTS)) {
    for (const [format, messages] of [
      ['msgpack', NODE_MESSAGES],
      ['json', JSON_MESSAGES],
    ] as const) {
      const serializer = nodeSerializer(format, keys.node)
      const clear = nodeSerializer(format)
      for (const [name, message] of Object.entries(messages)) {
        const id = `${variant}/${format}/${name}`
        cases.push({ id, format, keys: [...keys.python], expiry: EXPIRY_S, payload: b64(serializer.encode(message)) })
        bodies.set(id, Buffer.from(clear.encode(message)).subarray(12).toString('hex'))
      }
    }
  }
  const fernetA = MultiFernet.fromChannelsKeys([KEY_A])
  const body = Buffer.from('81a162c3', 'hex') // {"b": true}
  const token = (nowS?: number) => b64(Buffer.concat([Buffer.alloc(12), Buffer.from(fernetA.encrypt(body, nowS))]))
  cases.push({
    id: 'node-key-unknown-to-python',
    format: 'msgpack',
    keys: [KEY_UNKNOWN],
    expiry: EXPIRY_S,
    payload: token(),
  })
  cases.push({
    id: 'node-token-expired',
    format: 'msgpack',
    keys: [KEY_A],
    expiry: EXPIRY_S,
    payload: token(Date.now() / 1000 - (EXPIRY_S + 10) - 5),
  })
  cases.push({ id: 'node-token-fresh', format: 'msgpack', keys: [KEY_A], expiry: EXPIRY_S, payload: token() })
  return { cases, bodies }
}

const PYTHON_VALUES: Record<string, Tagged> = {
  vector: { a: true, b: null, c: { d: [] } },
  types: {
    type: 'test.python',
    one: { $float: 1 },
    half: { $float: -0.5 },
    max: 2 ** 53 - 1,
    min: -(2 ** 53 - 1),
    mid: 2 ** 40,
    smallInts: [0, 127, 128, -1, -33, 65536],
    blob: { $bytes: Buffer.from([0, 1, 254, 255]).toString('base64') },
    text: 'ünïcödé 😀 中文',
    nested: { list: [{ deep: [null, true, false] }], empty: {} },
    __asgi_channel__: ['specific.abc!def', 'specific.abc!ghi'],
  },
  proto: JSON.parse('{"__proto__": {"polluted": true}, "type": "test.proto"}') as Tagged,
  tooLarge: { type: 'test.large', value: 2 ** 53 },
}

const PYTHON_ENCODES: EncodeCase[] = [
  { id: 'clear/vector', format: 'msgpack', keys: [], shiftS: 0, value: PYTHON_VALUES.vector! },
  { id: 'clear/types', format: 'msgpack', keys: [], shiftS: 0, value: PYTHON_VALUES.types! },
  { id: 'clear/proto', format: 'msgpack', keys: [], shiftS: 0, value: PYTHON_VALUES.proto! },
  { id: 'clear/tooLarge', format: 'msgpack', keys: [], shiftS: 0, value: PYTHON_VALUES.tooLarge! },
  { id: 'json/types', format: 'json', keys: [], shiftS: 0, value: withoutBytes(PYTHON_VALUES.types!) },
  // Rotation: Python has only moved to B; Node lists [A, B].
  { id: 'keyB/types', format: 'msgpack', keys: [KEY_B], shiftS: 0, value: PYTHON_VALUES.types! },
  { id: 'keyA/types', format: 'msgpack', keys: [KEY_A], shiftS: 0, value: PYTHON_VALUES.types! },
  { id: 'keyB/json', format: 'json', keys: [KEY_B, KEY_A], shiftS: 0, value: withoutBytes(PYTHON_VALUES.types!) },
  { id: 'unknownKey', format: 'msgpack', keys: [KEY_UNKNOWN], shiftS: 0, value: PYTHON_VALUES.vector! },
  { id: 'expired', format: 'msgpack', keys: [KEY_A], shiftS: -(EXPIRY_S + 10) - 5, value: PYTHON_VALUES.vector! },
  { id: 'future', format: 'msgpack', keys: [KEY_A], shiftS: 120, value: PYTHON_VALUES.vector! },
]

/** What Node should read from each Python value: floats as plain numbers, bytes as Uint8Array. */
function untag(value: Tagged): unknown {
  if (Array.isArray(value)) return value.map(untag)
  if (typeof value !== 'object' || value === null) return value
  const keys = Object.keys(value)
  if (keys.length === 1 && keys[0] === '$bytes') return new Uint8Array(Buffer.from(value.$bytes as string, 'base64'))
  if (keys.length === 1 && keys[0] === '$float') return value.$float
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, untag(item)]))
}

function withoutBytes(value: Tagged): Tagged {
  return Object.fromEntries(Object.entries(value as Record<string, Tagged>).filter(([key]) => key !== 'blob'))
}

const b64 = (data: Uint8Array): string => Buffer.from(data).toString('base64')

async function runPython(request: { decode: DecodeCase[]; encode: EncodeCase[] }): Promise<PythonReply> {
  const run = promisify(execFile)(DEBIAN_PYTHON, ['-I', '-c', PYTHON_SCRIPT], {
    timeout: 60_000,
    maxBuffer: 64 * 1024 * 1024,
  })
  run.child.stdin?.end(JSON.stringify(request))
  const { stdout } = await run
  return JSON.parse(stdout) as PythonReply
}

describe('channels_redis wire format against Python (msgpack 1.x, cryptography)', () => {
  let reply: PythonReply
  let bodies: Map<string, string>

  beforeAll(async () => {
    await ensureDebianPythonPackages(['python3-msgpack', 'python3-cryptography'], ['msgpack', 'cryptography'])
    const decode = buildDecodeCases()
    bodies = decode.bodies
    reply = await runPython({ decode: decode.cases, encode: PYTHON_ENCODES })
  }, 600_000)

  const decodedByPython = (id: string) => {
    const result = reply.decoded[id]
    if (result === undefined) throw new Error(`no Python result for ${id}`)
    if ('error' in result) throw new Error(`Python failed on ${id}: ${result.error}`)
    return result
  }

  describe.each(Object.keys(VARIANTS))('Node -> Python, %s', (variant) => {
    it.each(Object.keys(NODE_MESSAGES))('msgpack: %s decodes to the same values', (name) => {
      const result = decodedByPython(`${variant}/msgpack/${name}`)
      expect(result.value).toEqual(tag(NODE_MESSAGES[name]))
      expect(result.body).toBe(bodies.get(`${variant}/msgpack/${name}`))
    })

    it.each(Object.keys(NODE_MESSAGES).filter((name) => name !== 'largeInts'))(
      'msgpack: %s is byte for byte what packb writes',
      (name) => {
        const result = decodedByPython(`${variant}/msgpack/${name}`)
        expect(result.body).toBe(result.again)
      },
    )

    it('msgpack: large positive ints differ from packb only in the int64/uint64 type byte', () => {
      const result = decodedByPython(`${variant}/msgpack/largeInts`)
      expect(result.value).toEqual(tag(NODE_MESSAGES.largeInts))
      expect(result.body).not.toBe(result.again)
      expect(result.body.replace(/d3(00[0-9a-f]{14})/g, 'cf$1')).toBe(result.again)
    })

    it.each(Object.keys(JSON_MESSAGES))('json: %s decodes to the same values, byte for byte as json.dumps', (name) => {
      const result = decodedByPython(`${variant}/json/${name}`)
      expect(result.value).toEqual(tag(JSON_MESSAGES[name]))
      expect(result.body).toBe(result.again)
    })
  })

  it('keeps "__proto__" as a plain key on the way to Python', () => {
    const result = decodedByPython('encrypted/msgpack/proto')
    expect(Object.keys(result.value as object)).toEqual(['__proto__', 'type', 'ok'])
  })

  it('Python refuses a Node token under a key it does not have, and an expired one', () => {
    expect(reply.decoded['node-key-unknown-to-python']).toEqual({ error: 'InvalidToken' })
    expect(reply.decoded['node-token-expired']).toEqual({ error: 'InvalidToken' })
    expect(decodedByPython('node-token-fresh').value).toEqual({ b: true })
  })

  describe('Python -> Node', () => {
    const nodeSide = nodeSerializer('msgpack', [KEY_A, KEY_B])
    const decodeInNode = (id: string, serializer = nodeSide) => {
      const payload = reply.encoded[id]
      if (payload === undefined) throw new Error(`no Python payload for ${id}`)
      return serializer.decode(Buffer.from(payload, 'base64'))
    }

    it.each(['clear/vector', 'clear/types'])('%s decodes to the same values', (id) => {
      const value = id.endsWith('vector') ? PYTHON_VALUES.vector! : PYTHON_VALUES.types!
      expect(decodeInNode(id, nodeSerializer('msgpack'))).toEqual(untag(value))
    })

    it('reads Python floats as numbers and bytes as Uint8Array', () => {
      const decoded = decodeInNode('clear/types', nodeSerializer('msgpack'))
      expect(decoded.one).toBe(1)
      expect(decoded.half).toBe(-0.5)
      expect(decoded.max).toBe(2 ** 53 - 1)
      expect(Object.getPrototypeOf(decoded.blob)).toBe(Uint8Array.prototype)
    })

    it('reads a "__proto__" key from Python as data, polluting nothing', () => {
      const decoded = decodeInNode('clear/proto', nodeSerializer('msgpack'))
      expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype)
      expect(Object.keys(decoded)).toEqual(['__proto__', 'type'])
      expect((decoded as { polluted?: unknown }).polluted).toBeUndefined()
      expect(({} as { polluted?: unknown }).polluted).toBeUndefined()
    })

    it('refuses an int beyond 2^53 - 1 from Python with MessageDecodeError', () => {
      expect(() => decodeInNode('clear/tooLarge', nodeSerializer('msgpack'))).toThrow(MessageDecodeError)
    })

    it('reads Python json (ensure_ascii, ", " separators)', () => {
      expect(decodeInNode('json/types', nodeSerializer('json'))).toEqual(untag(withoutBytes(PYTHON_VALUES.types!)))
    })

    it.each(['keyB/types', 'keyA/types'])('decrypts %s with keys [A, B] (rotation)', (id) => {
      expect(decodeInNode(id)).toEqual(untag(PYTHON_VALUES.types!))
    })

    it('decrypts Python json encrypted with [B, A]', () => {
      expect(decodeInNode('keyB/json', nodeSerializer('json', [KEY_A, KEY_B]))).toEqual(
        untag(withoutBytes(PYTHON_VALUES.types!)),
      )
    })

    it.each([
      ['unknownKey', /matches none of the 2 configured key\(s\)/],
      ['expired', /expired/],
      ['future', /in the future/],
    ])('refuses %s with MessageDecodeError', (id, message) => {
      let error: unknown
      try {
        decodeInNode(id)
      } catch (caught) {
        error = caught
      }
      expect(error).toBeInstanceOf(MessageDecodeError)
      expect((error as Error).message).toMatch(message)
    })
  })
})
