import type { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'

import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import { startPrivateRedis, type RunningRedis } from '../setup/provision-redis.js'
import { type SeededRandom, seededRandom, testSeed } from '../support/seeded-random.js'
import { info, RawClients, redisServerBin, sleep, uniquePrefix, waitFor } from './helpers.js'

// A private server: INFO commandstats then counts this file's commands only. Every queued message is one ZADD
// (inside the send script); any more would be messages put back because BZPOPMIN took them for a receive that
// was cancelled meanwhile. The layer hands such a message to the cancelled receive instead (its abort waits for
// the read in flight), so a put-back never happens while Redis answers.
let server: RunningRedis | undefined
// Every abort time, pause and order below is drawn from this seed (printed; SWITCHYARD_TEST_SEED replays it).
const seed = testSeed(import.meta.url)
const raw = new RawClients()
let client: Redis
const layers: RedisChannelLayer[] = []

beforeAll(async () => {
  server = await startPrivateRedis(redisServerBin())
  client = raw.connect(server.url)
})

afterEach(async () => {
  for (const layer of layers.splice(0)) {
    await layer.flush()
    await layer.close()
  }
})

afterAll(async () => {
  raw.closeAll()
  await server?.stop()
})

function layer(prefix: string): RedisChannelLayer {
  const made = new RedisChannelLayer({ hosts: [server!.url], prefix, capacity: 1_000 })
  layers.push(made)
  return made
}

async function zadds(): Promise<number> {
  return (await info(client, 'commandstats')).get('cmdstat_zadd.calls') ?? 0
}

/** Aborts the receive at a random 0-3 ms, or (one time in two) leaves it to `stop`. */
function randomAbort(random: SeededRandom, stop: AbortSignal): { signal: AbortSignal; clear(): void } {
  if (random.int(2) === 0) return { signal: stop, clear: () => undefined }
  const controller = new AbortController()
  const timer = setTimeout(() => {
    controller.abort()
  }, random.int(4))
  return {
    signal: AbortSignal.any([controller.signal, stop]),
    clear: () => {
      clearTimeout(timer)
    },
  }
}

/** Lets go of the event loop for 0-3 ms or 0-7 turns: the ms are coarse, the turns land between I/O events. */
async function randomPause(random: SeededRandom): Promise<void> {
  const choice = random.int(12)
  if (choice < 4) await sleep(choice)
  else for (let turn = 4; turn < choice; turn++) await new Promise((resolve) => setImmediate(resolve))
}

describe('cancelling receives on Redis', () => {
  it('gives each of 500 messages to exactly one of two competing processes, in order per process', async () => {
    // One stream per actor, so what each draws does not depend on how their turns interleave.
    const senderRandom = seededRandom(seed, 'competing readers: sender')
    const prefix = uniquePrefix()
    const readers = [layer(prefix), layer(prefix)]
    const sender = layer(prefix)
    const total = 500
    const got: number[][] = readers.map(() => [])
    const stop = new AbortController()
    let aborted = 0
    let receivedAfterAbort = 0
    const consume = async (reader: RedisChannelLayer, into: number[], random: SeededRandom): Promise<void> => {
      while (!stop.signal.aborted) {
        const abort = randomAbort(random, stop.signal)
        try {
          const message = await reader.receive('work', { signal: abort.signal })
          into.push(message.n as number)
          if (abort.signal.aborted) receivedAfterAbort++
          if (got[0]!.length + got[1]!.length >= total) stop.abort()
        } catch (error) {
          if (!abort.signal.aborted) throw error
          aborted++
          // Sometimes nobody receives for a moment, so a message taken for the cancelled receive goes back.
          if (random.int(2) === 0) await sleep(random.int(3))
        } finally {
          abort.clear()
        }
      }
    }
    const before = await zadds()
    const consumers = readers.map((reader, i) =>
      consume(reader, got[i]!, seededRandom(seed, `competing readers: reader ${i}`)),
    )
    for (let n = 0; n < total; n++) {
      await sender.send('work', { type: 'work.item', n })
      // Now and then let the readers drain, so some receives wait for a message and some find one queued.
      if (n % 25 === 24) await sleep(senderRandom.int(5))
    }
    await waitFor('every message to be received', () => stop.signal.aborted, { timeoutMs: 15_000 })
    await Promise.all(consumers)
    // Let any message taken by a receive cancelled just now go back, then check nothing is left behind.
    await sleep(100)
    expect(await client.zcard(`${prefix}work`)).toBe(0)

    for (const numbers of got) {
      expect(numbers.length).toBeGreaterThan(0)
      // Any message received after a later one, with its neighbours, for the failure message.
      const inversions = numbers.flatMap((n, i) => (i > 0 && n < numbers[i - 1]! ? [numbers.slice(i - 2, i + 2)] : []))
      expect(inversions).toEqual([])
    }
    expect([...got[0]!, ...got[1]!].sort((x, y) => x - y)).toEqual(Array.from({ length: total }, (_, i) => i))
    expect(aborted).toBeGreaterThan(0)
    const putBack = (await zadds()) - before - total
    console.log(
      `competing readers: ${got[0]!.length} + ${got[1]!.length} received, ${aborted} receives cancelled, ` +
        `${receivedAfterAbort} received although cancelled (BZPOPMIN had taken it), ${putBack} put back`,
    )
    expect(putBack).toBe(0)
  })

  it('keeps a message taken for a cancelled receive at the head of its queue, or gives it to that receive', async () => {
    const random = seededRandom(seed, 'queue head')
    const prefix = uniquePrefix()
    const reader = layer(prefix)
    const sender = layer(prefix)
    const before = await zadds()
    const outcomes = { untouched: 0, taken: 0, takenAfterAbort: 0 }
    // The race is timing-dependent: go on past 150 rounds until it has happened a few times (bounded).
    let rounds = 0
    while (rounds < 1_000 && (rounds < 150 || outcomes.takenAfterAbort < 3)) {
      const channel = `head-${rounds++}`
      await sender.send(channel, { type: 'm', n: 1 })
      await sender.send(channel, { type: 'm', n: 2 })
      const controller = new AbortController()
      const pending = reader.receive(channel, { signal: controller.signal }).then(
        (message) => ({ n: message.n as number, afterAbort: controller.signal.aborted }),
        () => undefined,
      )
      await randomPause(random)
      controller.abort()
      const first = await pending
      // Half the time the next receive comes only later: nothing may be left in flight for nobody.
      if (first === undefined && random.int(2) === 0) await sleep(3)
      const rest: number[] = []
      for (let n = first === undefined ? 2 : 1; n > 0; n--) {
        rest.push((await reader.receive(channel, { signal: AbortSignal.timeout(2_000) })).n as number)
      }
      expect(first === undefined ? rest : [first.n, ...rest]).toEqual([1, 2])
      expect(await client.zcard(`${prefix}${channel}`)).toBe(0)
      if (first === undefined) outcomes.untouched++
      else if (first.afterAbort) outcomes.takenAfterAbort++
      else outcomes.taken++
    }
    const putBack = (await zadds()) - before - 2 * rounds
    console.log(
      `queue head: ${rounds} rounds: ${outcomes.taken} received before the abort, ${outcomes.untouched} cancelled ` +
        `with the message left queued, ${outcomes.takenAfterAbort} cancelled after BZPOPMIN had taken it (so ` +
        `received), ${putBack} put back`,
    )
    expect(outcomes.taken).toBeGreaterThan(0)
    expect(outcomes.untouched).toBeGreaterThan(0)
    // The interesting race (the abort came while BZPOPMIN was taking the message) did happen, and the message
    // went to the cancelled receive instead of a round trip back to Redis.
    expect(outcomes.takenAfterAbort).toBeGreaterThan(0)
    expect(putBack).toBe(0)
  })
})
