/**
 * The history probe, a child process of `--only history` running the built package (harness/spawn-child.ts):
 * on `history.fill` it sends `messages` messages to each of `groups` history groups (for the runner's Redis
 * memory reading); on `history.recover` it times recoveries of `messages` missed messages. Configured by
 * BENCH_REDIS_URL, BENCH_PREFIX and BENCH_HISTORY_SIZE (every `bench.*` group keeps that many messages).
 */
import { performance } from 'node:perf_hooks'

import { RedisChannelLayer, positionOf, type Message } from 'switchyard-channels'
import { onParentMessage, sendToParent, type IpcMessage } from '../harness/ipc.js'
import { requireEnv } from '../systems/env.js'

/** Asks for `groups` groups (`<namePrefix><i>`) with `messages` messages each, every one with `textBytes` of text. */
export interface FillRequest extends IpcMessage {
  readonly kind: 'history.fill'
  /** e.g. `bench.memory-`: a name the layer option `history` matches (`bench.*`). */
  readonly namePrefix: string
  readonly groups: number
  readonly messages: number
  readonly textBytes: number
}

export interface Filled extends IpcMessage {
  readonly kind: 'history.filled'
  /** The first group's name, whose keys the runner reads one by one. */
  readonly sample: string
}

/** Asks for `repeats` measured recoveries (after `warmUp` unmeasured ones) of `messages` missed messages each. */
export interface RecoverRequest extends IpcMessage {
  readonly kind: 'history.recover'
  readonly messages: number
  readonly textBytes: number
  readonly repeats: number
  readonly warmUp: number
}

export interface Recovered extends IpcMessage {
  readonly kind: 'history.recovered'
  /** From the `groupAdd` call to the 100th (last) replayed message received, per recovery. */
  readonly recoverMs: number[]
  /** From the `groupAdd` call to its promise resolving (the replay is then in the channel's buffer). */
  readonly groupAddMs: number[]
}

const size = Number(requireEnv('BENCH_HISTORY_SIZE'))
const options = {
  hosts: [requireEnv('BENCH_REDIS_URL')],
  prefix: requireEnv('BENCH_PREFIX'),
  history: { 'bench.*': { size, ttlMs: 300_000 } },
}
// Two layers, as two processes would be: one sends while the other's channel is away, then recovers.
const sender = new RedisChannelLayer(options)
const receiver = new RedisChannelLayer(options)
await Promise.all([sender.ready(), receiver.ready()])

/** A chat message: what a history group typically keeps. */
function chatMessage(seq: number, textBytes: number): Message {
  return { type: 'chat.message', user: 'ada', seq, text: 'x'.repeat(textBytes) }
}

async function fill({ namePrefix, groups, messages, textBytes }: FillRequest): Promise<Filled> {
  for (let g = 0; g < groups; g++) {
    const group = `${namePrefix}${g}`
    const sends: Promise<void>[] = []
    for (let seq = 0; seq < messages; seq++) sends.push(sender.groupSend(group, chatMessage(seq, textBytes)))
    await Promise.all(sends)
  }
  return { kind: 'history.filled', sample: `${namePrefix}0` }
}

/** One channel misses `messages` messages, then a new channel of the same client recovers them. */
async function recoverOnce(group: string, messages: number, textBytes: number): Promise<[number, number]> {
  const away = await receiver.newChannel('bench')
  const { position } = await receiver.groupAdd(group, away)
  if (position === undefined) throw new Error(`${group} is not a history group: check BENCH_HISTORY_SIZE`)
  await receiver.groupDiscard(group, away)
  for (let seq = 0; seq < messages; seq++) await sender.groupSend(group, chatMessage(seq, textBytes))

  const channel = await receiver.newChannel('bench')
  const start = performance.now()
  const joined = await receiver.groupAdd(group, channel, { recover: position })
  const added = performance.now()
  if (joined.recovered !== true) throw new Error(`recovery from offset ${position.offset} of ${group} failed`)
  for (let i = 1; i <= messages; i++) {
    const message = await receiver.receive(channel)
    const offset = positionOf(message)?.offset
    if (offset !== position.offset + i) throw new Error(`replayed offset ${offset}, expected ${position.offset + i}`)
  }
  const end = performance.now()
  await receiver.groupDiscard(group, channel)
  return [end - start, added - start]
}

async function recover({ messages, textBytes, repeats, warmUp }: RecoverRequest): Promise<Recovered> {
  if (messages > size) throw new Error(`cannot recover ${messages} messages from a history of ${size}`)
  const recoverMs: number[] = []
  const groupAddMs: number[] = []
  for (let i = 0; i < warmUp + repeats; i++) {
    const [total, add] = await recoverOnce('bench.recover', messages, textBytes)
    if (i < warmUp) continue
    recoverMs.push(total)
    groupAddMs.push(add)
  }
  return { kind: 'history.recovered', recoverMs, groupAddMs }
}

onParentMessage(async (message) => {
  if (message.kind === 'history.fill') sendToParent(await fill(message as FillRequest))
  else if (message.kind === 'history.recover') sendToParent(await recover(message as RecoverRequest))
})
process.once('SIGTERM', () => {
  void Promise.all([sender.close(), receiver.close()]).finally(() => process.exit(0))
})
sendToParent({ kind: 'ready' })
