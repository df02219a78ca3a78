import { describe, expect, it } from 'vitest'

import { RespParser, RespReplyError, type RespReply } from '../../../src/layers/redis/resp-parser.js'

/** Every reply `chunks` make, in order. */
function parse(chunks: readonly Buffer[]): RespReply[] {
  const replies: RespReply[] = []
  const parser = new RespParser((reply) => replies.push(reply))
  for (const chunk of chunks) parser.push(chunk)
  return replies
}

/** What the reader gets for BZMPOP, BZPOPMIN, ZPOPMIN, CLIENT ID, SETNAME, a timeout and a refusal, back to back. */
const WIRE = Buffer.from(
  [
    '*2\r\n$8\r\nqueue!ab\r\n*2\r\n*2\r\n$3\r\nm\xc3\xa9\r\n$4\r\n12.5\r\n*2\r\n$0\r\n\r\n$1\r\n7\r\n',
    '*3\r\n$1\r\nk\r\n$5\r\nhello\r\n$1\r\n1\r\n',
    '*0\r\n',
    ':42\r\n',
    '+OK\r\n',
    '*-1\r\n',
    '$-1\r\n',
    "-ERR unknown command 'BZMPOP', with args beginning with: \r\n",
    '-MOVED 3999 127.0.0.1:7002\r\n',
  ].join(''),
  'latin1',
)

function shape(reply: RespReply): unknown {
  if (Buffer.isBuffer(reply)) return `<${reply.toString('utf8')}>`
  if (reply instanceof RespReplyError) return `error: ${reply.message}`
  if (Array.isArray(reply)) return (reply as readonly RespReply[]).map(shape)
  return reply
}

const EXPECTED = [
  [
    '<queue!ab>',
    [
      ['<mé>', '<12.5>'],
      ['<>', '<7>'],
    ],
  ],
  ['<k>', '<hello>', '<1>'],
  [],
  42,
  'OK',
  null,
  null,
  "error: ERR unknown command 'BZMPOP', with args beginning with: ",
  'error: MOVED 3999 127.0.0.1:7002',
]

describe('RespParser', () => {
  it('reads every reply type the blocking reader gets, bulk strings as bytes and errors as ReplyErrors', () => {
    const replies = parse([WIRE])
    expect(replies.map(shape)).toEqual(EXPECTED)
    const error = replies[7]
    expect(error).toBeInstanceOf(RespReplyError)
    expect((error as RespReplyError).name).toBe('ReplyError')
  })

  it('reads the same replies whatever the chunks, split at any byte or byte by byte', () => {
    for (let cut = 1; cut < WIRE.length; cut++) {
      expect(parse([WIRE.subarray(0, cut), WIRE.subarray(cut)]).map(shape)).toEqual(EXPECTED)
    }
    const bytes = [...WIRE].map((byte) => Buffer.from([byte]))
    expect(parse(bytes).map(shape)).toEqual(EXPECTED)
  })

  it('gathers a long bulk string over many chunks and parses it once they are all there', () => {
    const member = Buffer.alloc(200_000, 'x')
    const wire = Buffer.concat([
      Buffer.from(`*2\r\n$${member.length}\r\n`),
      member,
      Buffer.from('\r\n$1\r\n1\r\n:5\r\n'),
    ])
    const chunks: Buffer[] = []
    for (let at = 0; at < wire.length; at += 1_000) chunks.push(wire.subarray(at, at + 1_000))
    const replies = parse(chunks)
    expect(replies).toHaveLength(2)
    const [pair] = replies as [Buffer[]]
    expect(pair[0]?.equals(member)).toBe(true)
    expect(pair[1]?.toString()).toBe('1')
    expect(replies[1]).toBe(5)
  })

  it('refuses a byte that starts no RESP2 reply', () => {
    const parser = new RespParser(() => undefined)
    expect(() => {
      parser.push(Buffer.from('%1\r\n'))
    }).toThrow(/Protocol error/)
  })
})
