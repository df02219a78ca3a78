/**
 * What one groupSend costs Redis, shared by test/redis/group-send-cost.test.ts and the benchmark. The private
 * redis-server must run with `--slowlog-log-slower-than 0` (SLOWLOG_ARGS): it then logs every command, so the
 * send's own commands are found by the payload they carry whatever else the layers do meanwhile (heartbeats,
 * delayed-message movers): their count is the round trips, their RESP size the bytes written, their durations
 * the script time. INFO adds what the readers did and the copies queued.
 */
import type { Redis } from 'ioredis'

import type { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import { info } from './redis-info.js'
import { sleep } from './wait.js'

export const SLOWLOG_ARGS = ['--slowlog-log-slower-than', '0', '--slowlog-max-len', '4096'] as const
/** Heartbeats and sweeps far apart, so they stay out of the measurement. */
export const QUIET_LAYER_OPTIONS = { heartbeatIntervalMs: 60_000, staleAfterMs: 180_000 } as const

const TEXT = 'hello, everyone in the room'
export const COST_MESSAGE = { type: 'room.message', text: TEXT } as const

export interface GroupSendCost {
  /** Commands that carried the message (EVALSHA, and EVAL after NOSCRIPT): the sender's round trips. */
  readonly roundTrips: number
  /** Their size as RESP: the bytes the groupSend wrote to Redis. */
  readonly bytesSent: number
  /** Their execution time in Redis. */
  readonly scriptUsec: number
  /** ZADDs run meanwhile (inside the script): one per copy of the message queued. */
  readonly copies: number
  /** The readers' commands meanwhile (BZPOPMIN woke up, ZPOPMIN drained, BZPOPMIN again). */
  readonly readerCommands: number
  /** Everything Redis read in the window (INFO): the send, the readers and any background command. */
  readonly bytesIn: number
}

/** A member: the layer that owns the channel, and the channel. */
export type Member = readonly [RedisChannelLayer, string]

/** A SLOWLOG entry as Redis returns it: id, unix time, duration (µs), arguments (each cut at 128 bytes), … */
type SlowlogEntry = [number, number, number, Buffer[], ...unknown[]]

/** `count` new channels of `owner` in `group`, added in parallel batches. */
export async function addMembers(owner: RedisChannelLayer, group: string, count: number): Promise<Member[]> {
  const channels: string[] = []
  for (let i = 0; i < count; i++) channels.push(await owner.newChannel())
  for (let i = 0; i < channels.length; i += 1_000) {
    await Promise.all(channels.slice(i, i + 1_000).map((channel) => owner.groupAdd(group, channel)))
  }
  return channels.map((channel) => [owner, channel] as const)
}

/** The bytes of a command as RESP, from its SLOWLOG arguments (`... (N more bytes)` marks a cut argument). */
function respBytes(args: readonly Buffer[]): number {
  let bytes = Buffer.byteLength(`*${args.length}\r\n`)
  for (const arg of args) {
    const text = arg.toString('latin1')
    if (/^\.\.\. \(\d+ more arguments\)$/.test(text)) throw new Error('SLOWLOG cut the argument list')
    const cut = /\.\.\. \((\d+) more bytes\)$/.exec(text)
    const length = cut === null ? arg.length : 128 + Number(cut[1])
    bytes += Buffer.byteLength(`$${length}\r\n`) + length + 2
  }
  return bytes
}

const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[values.length >> 1] ?? 0

/** Several measurements of one group as one row: the worst round trips, bytes and copies; median times. */
export function summarizeCosts(costs: readonly GroupSendCost[]): GroupSendCost {
  return {
    roundTrips: Math.max(...costs.map((cost) => cost.roundTrips)),
    bytesSent: Math.max(...costs.map((cost) => cost.bytesSent)),
    scriptUsec: median(costs.map((cost) => cost.scriptUsec)),
    copies: Math.max(...costs.map((cost) => cost.copies)),
    // An idle reader's BZPOPMIN times out every 2 s and may re-arm inside a measurement: take the medians.
    readerCommands: median(costs.map((cost) => cost.readerCommands)),
    bytesIn: median(costs.map((cost) => cost.bytesIn)),
  }
}

/** Measures groupSends through `client`, a plain connection to a server started with SLOWLOG_ARGS. */
export class GroupSendCostProbe {
  /** What one INFO call adds to Redis' own counters, measured, so it can be taken out. */
  private infoBytesIn = 0

  constructor(private readonly client: Redis) {}

  async calibrate(): Promise<void> {
    await this.snapshot() // every cmdstat line exists from here on
    const first = await this.snapshot()
    const second = await this.snapshot()
    this.infoBytesIn = delta(first, second, 'total_net_input_bytes')
  }

  /** One groupSend of COST_MESSAGE, measured once every member has it and the readers are blocking again. */
  async measure(sender: RedisChannelLayer, group: string, members: readonly Member[]): Promise<GroupSendCost> {
    await this.client.call('SLOWLOG', 'RESET')
    const before = await this.snapshot()
    await sender.groupSend(group, COST_MESSAGE)
    for (const [owner, channel] of members) {
      const got = (await owner.receive(channel, { signal: AbortSignal.timeout(2_000) })) as { text?: unknown }
      if (got.text !== TEXT) throw new Error(`member ${channel} got ${JSON.stringify(got)} instead of the message`)
    }
    await sleep(50) // the readers' next BZPOPMIN reaches Redis
    const after = await this.snapshot()
    const sent = await this.sendCommands()
    const calls = (name: string): number => delta(before, after, `cmdstat_${name}.calls`)
    return {
      roundTrips: sent.length,
      bytesSent: sent.reduce((sum, [, , , args]) => sum + respBytes(args), 0),
      scriptUsec: sent.reduce((sum, [, , usec]) => sum + usec, 0),
      // Commands a script runs count in commandstats too: its ZADDs are the copies it queued.
      copies: calls('zadd'),
      readerCommands: calls('bzpopmin') + calls('zpopmin'),
      bytesIn: delta(before, after, 'total_net_input_bytes') - this.infoBytesIn,
    }
  }

  private snapshot(): Promise<Map<string, number>> {
    return info(this.client, 'stats', 'commandstats')
  }

  /** The logged script calls that carried the message (Redis 7 also logs the commands a script runs: not those). */
  private async sendCommands(): Promise<SlowlogEntry[]> {
    const entries = (await this.client.callBuffer('SLOWLOG', 'GET', '4096')) as SlowlogEntry[]
    return entries.filter(
      ([, , , args]) =>
        /^eval(sha)?$/i.test(args[0]?.toString('latin1') ?? '') && args.some((arg) => arg.includes(TEXT)),
    )
  }
}

function delta(before: Map<string, number>, after: Map<string, number>, field: string): number {
  return (after.get(field) ?? 0) - (before.get(field) ?? 0)
}
