/**
 * The presence probe, a child process of `--only presence` running the built package (harness/spawn-child.ts):
 * on `presence.fill` it enters `members` channels of its layer in one group's presence list; on `presence.list` it
 * times `layer.presence.list` of that group. Configured by BENCH_REDIS_URL and BENCH_PREFIX; every `bench.*` group
 * has presence.
 */
import { performance } from 'node:perf_hooks'

import { RedisChannelLayer } from 'switchyard-channels'
import { onParentMessage, sendToParent, type IpcMessage } from '../harness/ipc.js'
import { requireEnv } from '../systems/env.js'

/** Joins at once: enough to keep Redis busy, few enough not to queue thousands of script calls. */
const JOIN_CONCURRENCY = 50

/** Asks for `members` entries in `group`, each channel a `newChannel()` of this process. */
export interface FillRequest extends IpcMessage {
  readonly kind: 'presence.fill'
  readonly group: string
  readonly members: number
}

export interface Filled extends IpcMessage {
  readonly kind: 'presence.filled'
  readonly joinMs: number
  /** One entry's info as JSON, as the list keeps it. */
  readonly infoBytes: number
  /** A member's channel, whose owner-presence set the runner reads. */
  readonly sampleChannel: string
}

/** Asks for `repeats` measured lists (after `warmUp` unmeasured ones) of `group`, each expected to hold `members`. */
export interface ListRequest extends IpcMessage {
  readonly kind: 'presence.list'
  readonly group: string
  readonly members: number
  readonly repeats: number
  readonly warmUp: number
}

export interface Listed extends IpcMessage {
  readonly kind: 'presence.listed'
  readonly listMs: number[]
}

const layer = new RedisChannelLayer({
  hosts: [requireEnv('BENCH_REDIS_URL')],
  prefix: requireEnv('BENCH_PREFIX'),
  presence: ['bench.*'],
})
await layer.ready()

/** What a chat app puts in a presence entry: a user id and a display name. */
const infoOf = (i: number) => ({ user: `u${i}`, name: `Member ${i}` })

async function fill({ group, members }: FillRequest): Promise<Filled> {
  const channels = await Promise.all(Array.from({ length: members }, () => layer.newChannel('bench')))
  const start = performance.now()
  let next = 0
  const joiner = async (): Promise<void> => {
    for (let i = next++; i < members; i = next++) await layer.presence.join(group, channels[i] ?? '', infoOf(i))
  }
  await Promise.all(Array.from({ length: JOIN_CONCURRENCY }, joiner))
  return {
    kind: 'presence.filled',
    joinMs: performance.now() - start,
    infoBytes: JSON.stringify(infoOf(members - 1)).length,
    sampleChannel: channels[0] ?? '',
  }
}

async function list({ group, members, repeats, warmUp }: ListRequest): Promise<Listed> {
  const listMs: number[] = []
  for (let i = 0; i < warmUp + repeats; i++) {
    const start = performance.now()
    const entries = await layer.presence.list(group)
    const ms = performance.now() - start
    if (entries.length !== members) throw new Error(`listed ${entries.length} members of ${group}, not ${members}`)
    if (i >= warmUp) listMs.push(ms)
  }
  return { kind: 'presence.listed', listMs }
}

onParentMessage(async (message) => {
  if (message.kind === 'presence.fill') sendToParent(await fill(message as FillRequest))
  else if (message.kind === 'presence.list') sendToParent(await list(message as ListRequest))
})
process.once('SIGTERM', () => {
  void layer.close().finally(() => process.exit(0))
})
sendToParent({ kind: 'ready' })
