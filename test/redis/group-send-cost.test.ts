import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import { startPrivateRedis, type RunningRedis } from '../setup/provision-redis.js'
import { info, RawClients, redisServerBin, sleep, uniquePrefix } from './helpers.js'

// A measurement that is also a test: what one groupSend costs Redis, by member count. A private server logs every
// command in its SLOWLOG (threshold 0), so the send's own commands are found by the payload they carry, whatever
// else the layers do meanwhile (heartbeats, delayed-message movers): their count is the round trips, their RESP
// size the bytes written, their durations the script time. INFO adds what the readers did and the queued copies.
const QUIET = { heartbeatIntervalMs: 60_000, staleAfterMs: 180_000 } as const
const SENDS_PER_SIZE = 3
const TEXT = 'hello, everyone in the room'
const MESSAGE = { type: 'room.message', text: TEXT } as const

interface Cost {
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

/** A SLOWLOG entry as Redis returns it: id, unix time, duration (µs), arguments (each cut at 128 bytes), … */
type SlowlogEntry = [number, number, number, Buffer[], ...unknown[]]

let server: RunningRedis | undefined
const raw = new RawClients()
let client: Redis
const layers: RedisChannelLayer[] = []
/** What one INFO call adds to Redis' own counters, measured, so it can be taken out. */
let infoOverhead = { bytesIn: 0 }

beforeAll(async () => {
  server = await startPrivateRedis(redisServerBin(), {
    extraArgs: ['--slowlog-log-slower-than', '0', '--slowlog-max-len', '4096'],
  })
  client = raw.connect(server.url)
  await snapshot() // every cmdstat line exists from here on
  const first = await snapshot()
  const second = await snapshot()
  infoOverhead = { bytesIn: delta(first, second, 'total_net_input_bytes') }
})

afterAll(async () => {
  for (const layer of layers.splice(0)) {
    await layer.flush()
    await layer.close()
  }
  raw.closeAll()
  await server?.stop()
})

function snapshot(): Promise<Map<string, number>> {
  return info(client, 'stats', 'commandstats')
}

function delta(before: Map<string, number>, after: Map<string, number>, field: string): number {
  return (after.get(field) ?? 0) - (before.get(field) ?? 0)
}

function layer(prefix: string): RedisChannelLayer {
  const made = new RedisChannelLayer({ hosts: [server!.url], prefix, ...QUIET })
  layers.push(made)
  return made
}

/** `count` new channels of `owner` in `group`, added in parallel batches. */
async function addMembers(owner: RedisChannelLayer, group: string, count: number): Promise<string[]> {
  const channels: string[] = []
  for (let i = 0; i < count; i++) channels.push(await owner.newChannel())
  for (let i = 0; i < channels.length; i += 1_000) {
    await Promise.all(channels.slice(i, i + 1_000).map((channel) => owner.groupAdd(group, channel)))
  }
  return channels
}

/** Every member has exactly the message, once. */
async function expectDelivered(members: readonly [RedisChannelLayer, string][]): Promise<void> {
  for (const [owner, channel] of members) {
    expect(await owner.receive(channel, { signal: AbortSignal.timeout(2_000) })).toEqual(MESSAGE)
  }
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

/** The logged script calls that carried the message (Redis 7 also logs the commands a script runs: not those). */
async function sendCommands(): Promise<SlowlogEntry[]> {
  const entries = (await client.callBuffer('SLOWLOG', 'GET', '4096')) as SlowlogEntry[]
  return entries.filter(
    ([, , , args]) => /^eval(sha)?$/i.test(args[0]?.toString('latin1') ?? '') && args.some((arg) => arg.includes(TEXT)),
  )
}

/** One groupSend, measured once every member has it and the readers are blocking again. */
async function measure(
  sender: RedisChannelLayer,
  group: string,
  members: readonly [RedisChannelLayer, string][],
): Promise<Cost> {
  await client.call('SLOWLOG', 'RESET')
  const before = await snapshot()
  await sender.groupSend(group, MESSAGE)
  await expectDelivered(members)
  await sleep(50) // the readers' next BZPOPMIN reaches Redis
  const after = await snapshot()
  const sent = await sendCommands()
  const calls = (name: string): number => delta(before, after, `cmdstat_${name}.calls`)
  return {
    roundTrips: sent.length,
    bytesSent: sent.reduce((sum, [, , , args]) => sum + respBytes(args), 0),
    scriptUsec: sent.reduce((sum, [, , usec]) => sum + usec, 0),
    // Commands a script runs count in commandstats too: its ZADDs are the copies it queued.
    copies: calls('zadd'),
    readerCommands: calls('bzpopmin') + calls('zpopmin'),
    bytesIn: delta(before, after, 'total_net_input_bytes') - infoOverhead.bytesIn,
  }
}

const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

function summarize(costs: readonly Cost[]): Cost {
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

describe('what one groupSend costs Redis', () => {
  it('does not grow in round trips or bytes with the members of one process; two processes get two copies', async () => {
    const rows: (readonly [string, Cost])[] = []
    const prefix = uniquePrefix()
    const node = layer(prefix)
    await node.ready()
    // Warm up: the scripts are loaded (EVAL after NOSCRIPT) outside the measurements.
    await node.groupSend('warm-up', MESSAGE)

    for (const size of [10, 1_000, 10_000]) {
      const group = `room-${size}`
      const members = (await addMembers(node, group, size)).map((channel): [RedisChannelLayer, string] => [
        node,
        channel,
      ])
      const costs: Cost[] = []
      for (let i = 0; i < SENDS_PER_SIZE; i++) costs.push(await measure(node, group, members))
      for (const cost of costs) {
        expect(cost.roundTrips).toBe(1)
        expect(cost.copies).toBe(1)
      }
      rows.push([`${size} members, 1 process`, summarize(costs)])
    }

    // 1 000 members, 500 in each of two processes; the first one sends.
    const other = layer(prefix)
    await other.ready()
    const spread = [
      ...(await addMembers(node, 'room-spread', 500)).map((channel): [RedisChannelLayer, string] => [node, channel]),
      ...(await addMembers(other, 'room-spread', 500)).map((channel): [RedisChannelLayer, string] => [other, channel]),
    ]
    const spreadCosts: Cost[] = []
    for (let i = 0; i < SENDS_PER_SIZE; i++) spreadCosts.push(await measure(node, 'room-spread', spread))
    for (const cost of spreadCosts) {
      expect(cost.roundTrips).toBe(1)
      expect(cost.copies).toBe(2)
    }
    rows.push(['1000 members, 2 processes', summarize(spreadCosts)])

    console.log(
      [
        'groupSend cost per call (median of 3 on a private redis-server; round trips, bytes and µs are the',
        "send's own commands, from SLOWLOG; Redis read in all: INFO, with the readers' BZPOPMIN/ZPOPMIN):",
        '| group                     | round trips | bytes sent | script µs | copies queued | reader cmds | Redis read in all |',
        '| ------------------------- | ----------- | ---------- | --------- | ------------- | ----------- | ----------------- |',
        ...rows
          .map(([name, cost]) =>
            [
              name.padEnd(25),
              String(cost.roundTrips).padStart(11),
              String(cost.bytesSent).padStart(10),
              String(cost.scriptUsec).padStart(9),
              String(cost.copies).padStart(13),
              String(cost.readerCommands).padStart(11),
              String(cost.bytesIn).padStart(17),
            ].join(' | '),
          )
          .map((line) => `| ${line} |`),
      ].join('\n'),
    )
    const bytes = new Map(rows.map(([name, cost]) => [name, cost.bytesSent]))
    const small = bytes.get('10 members, 1 process')!
    expect(small).toBeGreaterThan(0)
    expect(bytes.get('1000 members, 1 process')!).toBeLessThanOrEqual(small * 1.5)
    expect(bytes.get('10000 members, 1 process')!).toBeLessThanOrEqual(small * 1.5)
  })
})
