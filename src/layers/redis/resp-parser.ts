/**
 * A RESP2 reply as the blocking reader receives it (resp-connection.ts): bulk strings stay bytes (views into the
 * socket's chunk, as ioredis' `callBuffer` gives them), null bulk strings and arrays are `null`.
 */
export type RespReply = null | number | string | Buffer | RespReplyError | readonly RespReply[]

/** An error reply (`-ERR ...`, `-MOVED ...`): its message is the reply's text, as ioredis' ReplyError's is. */
export class RespReplyError extends Error {
  override readonly name = 'ReplyError'
}

const CR = 13
const EMPTY = Buffer.alloc(0)
/** Returned by a parse step that needs more bytes than have arrived. */
const INCOMPLETE = Symbol('incomplete')
type Step = RespReply | typeof INCOMPLETE

/**
 * Splits a connection's bytes into replies. A reply may arrive in any number of chunks: a parse that runs out of
 * bytes starts over once more have come, and a long bulk string (a batch of large messages) says how many bytes it
 * needs first, so chunks are only gathered, not parsed again, until they are all there.
 */
export class RespParser {
  private buffer: Buffer = EMPTY
  private readonly chunks: Buffer[] = []
  private chunkBytes = 0
  /** Bytes `buffer` must hold before a parse can finish (0: unknown, try with what there is). */
  private needBytes = 0
  private offset = 0

  constructor(private readonly onReply: (reply: RespReply) => void) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk)
    this.chunkBytes += chunk.length
    if (this.buffer.length + this.chunkBytes < this.needBytes) return
    const first = this.chunks[0]
    this.buffer =
      this.buffer.length === 0 && this.chunks.length === 1 && first !== undefined
        ? first
        : Buffer.concat([this.buffer, ...this.chunks], this.buffer.length + this.chunkBytes)
    this.chunks.length = 0
    this.chunkBytes = 0
    let start = 0
    while (start < this.buffer.length) {
      this.offset = start
      this.needBytes = 0
      const reply = this.value()
      if (reply === INCOMPLETE) break
      start = this.offset
      this.onReply(reply)
    }
    this.buffer = start === this.buffer.length ? EMPTY : this.buffer.subarray(start)
    if (this.needBytes > 0) this.needBytes -= start
  }

  private value(): Step {
    const buffer = this.buffer
    const type = buffer[this.offset]
    const lineEnd = buffer.indexOf(CR, this.offset)
    if (type === undefined || lineEnd === -1 || lineEnd + 1 >= buffer.length) return INCOMPLETE
    const lineStart = this.offset + 1
    const line = buffer.toString('latin1', lineStart, lineEnd)
    this.offset = lineEnd + 2
    switch (type) {
      case 0x2b: // '+'
        return line
      case 0x2d: // '-'
        return new RespReplyError(buffer.toString('utf8', lineStart, lineEnd))
      case 0x3a: // ':'
        return Number(line)
      case 0x24: // '$'
        return this.bulk(Number(line))
      case 0x2a: // '*'
        return this.array(Number(line))
      default:
        throw new Error(`Protocol error: unexpected reply type byte ${type}`)
    }
  }

  private bulk(length: number): Step {
    if (length < 0) return null
    const end = this.offset + length
    if (end + 2 > this.buffer.length) {
      this.needBytes = end + 2
      return INCOMPLETE
    }
    const bytes = this.buffer.subarray(this.offset, end)
    this.offset = end + 2
    return bytes
  }

  private array(length: number): Step {
    if (length < 0) return null
    const items: RespReply[] = []
    for (let i = 0; i < length; i++) {
      const item = this.value()
      if (item === INCOMPLETE) return INCOMPLETE
      items.push(item)
    }
    return items
  }
}
