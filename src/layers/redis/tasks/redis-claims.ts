// The wire format of claims between RedisTaskStore and its task scripts (task-settle.lua, task-start.lua):
// claim tokens, task ids, the settlement fields, and the payload layout the scripts can read themselves.
import { createHash, randomBytes, randomUUID } from 'node:crypto'

import type { Message } from '../../channel-layer.js'
import { encodeMsgpack } from '../msgpack-codec.js'
import type { MessageSerializer } from '../serializer.js'
import type { ClaimedTask, TaskSettlement } from '../../../tasks/task-store.js'

/** Each claim is a 16-byte token followed by the stored payload (see task-settle.lua). */
export const CLAIM_TOKEN_BYTES = 16

/** The task id: the message's own `idempotencyKey`, else a stable hash of its stored bytes. */
export function taskIdOf(message: Message, payload: Buffer): string {
  const key = message.idempotencyKey
  if (typeof key === 'string' && key !== '') return key
  return createHash('sha1').update(payload).digest('hex').slice(0, 32)
}

/**
 * The 14 random bytes each claiming call needs (task-settle.lua), cut from a pooled block: one `randomBytes` per
 * call was a visible share of a worker's CPU, since every call is a system call (issue 8).
 */
export class ClaimTokens {
  private static readonly SIZE = CLAIM_TOKEN_BYTES - 2
  private pool = Buffer.alloc(0)
  private offset = 0

  next(): Buffer {
    if (this.offset + ClaimTokens.SIZE > this.pool.length) {
      this.pool = randomBytes(ClaimTokens.SIZE * 256)
      this.offset = 0
    }
    const token = this.pool.subarray(this.offset, this.offset + ClaimTokens.SIZE)
    this.offset += ClaimTokens.SIZE
    return token
  }
}

/**
 * How many bytes precede the msgpack body in this serializer's payloads, found by encoding a probe message; -1
 * when the body is not plain msgpack (JSON, or encrypted). The serializer does not say, and the probe cannot
 * be fooled: an encrypted or JSON payload never ends in the probe's msgpack bytes.
 */
export function plainMsgpackPrefix(serializer: MessageSerializer): number {
  const probe = { type: 'switchyard.probe', idempotencyKey: 'probe' }
  const body = encodeMsgpack(probe)
  const payload = serializer.encode(probe)
  const prefix = payload.length - body.length
  return prefix >= 0 && payload.subarray(prefix).equals(body) ? prefix : -1
}

export type Mutable<T> = { -readonly [K in keyof T]: T[K] }

/** A settlement's error, extra and dead-letter id fields of task-settle.lua. */
export function settlementFields(settlement: TaskSettlement, now: number): [string, string, string] {
  switch (settlement.action) {
    case 'ack':
      return ['', settlement.result === undefined ? '' : JSON.stringify(settlement.result), '']
    case 'retry':
      return [
        settlement.failure.error,
        String(now + settlement.delayMs),
        settlement.countAttempt === false ? 'uncounted' : '',
      ]
    case 'bury':
      return [settlement.failure.error, settlement.failure.stack ?? '', randomUUID()]
  }
}

export function stripRouting(message: Message): Message {
  if (!Object.hasOwn(message, '__asgi_channel__')) return message
  const { __asgi_channel__: _routing, ...rest } = message
  return rest
}

export function toBuffer(raw: unknown): Buffer {
  if (Buffer.isBuffer(raw)) return raw
  throw new TypeError('expected a binary reply from task-settle.lua')
}

export function byChannel(tasks: readonly ClaimedTask[]): Map<string, ClaimedTask[]> {
  const groups = new Map<string, ClaimedTask[]>()
  for (const task of tasks) {
    const group = groups.get(task.channel)
    if (group === undefined) groups.set(task.channel, [task])
    else group.push(task)
  }
  return groups
}
