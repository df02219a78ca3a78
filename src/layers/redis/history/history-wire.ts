import { randomBytes } from 'node:crypto'

import type { MessagePosition } from '../../history/positions.js'

/**
 * How history travels in Redis, Django included.
 *
 * A history group's members are kept apart from its channels_redis group (keys.ts `historyMembersName`), which
 * instead holds one proxy member, `switchyard.history!<group>`. So a Django `group_send` reaches Django members as
 * usual and puts one copy, addressed to the proxy, in the proxy queue (`<prefix>switchyard.history!`); a Switchyard
 * process holding the pump lease takes it from there and sends it on through the same script as a Node
 * `groupSend`: history-send.lua gives it its position, keeps it and delivers it. Django's group send is sequenced
 * in Redis too, without a line of Python.
 *
 * A sequenced payload is the original one with its 12 random prefix bytes (which every reader, channels_redis
 * included, strips unread) replaced by the position: 6 bytes of offset (big-endian) and the 6-character epoch.
 * Its body still names the proxy in `__asgi_channel__`, which is how a reader knows to look at the prefix.
 */
export const PROXY_PREFIX = 'switchyard.history!'

/** The non-local name of the proxy queue. */
export const PROXY_QUEUE_NAME = PROXY_PREFIX

/** Characters of an epoch in Redis: it fills the last 6 bytes of the prefix. */
export const EPOCH_LENGTH = 6

/** The proxy member of `group`'s channels_redis group. */
export function proxyMember(group: string): string {
  return PROXY_PREFIX + group
}

/** The group a routing target names when it is a proxy member, else undefined. */
export function groupOfProxy(target: unknown): string | undefined {
  if (!Array.isArray(target) || target.length !== 1) return undefined
  const [name] = target as unknown[]
  return typeof name === 'string' && name.startsWith(PROXY_PREFIX) ? name.slice(PROXY_PREFIX.length) : undefined
}

/** A fresh epoch (6 URL-safe characters, 36 random bits), offered to scripts for a group that has none. */
export function newEpoch(): string {
  return randomBytes(6).toString('base64url').slice(0, EPOCH_LENGTH)
}

/** The position a sequenced payload carries in its prefix. */
export function positionInPrefix(group: string, payload: Uint8Array): MessagePosition {
  const view = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)
  return {
    group,
    offset: view.readUIntBE(0, 6),
    epoch: view.toString('latin1', 6, 6 + EPOCH_LENGTH),
  }
}

/** The payload as a script that gave it `offset` and `epoch` wrote it (for copies sent on from Node). */
export function withPositionPrefix(payload: Buffer, offset: number, epoch: string): Buffer {
  const copy = Buffer.from(payload)
  copy.writeUIntBE(offset, 0, 6)
  copy.write(epoch, 6, EPOCH_LENGTH, 'latin1')
  return copy
}
