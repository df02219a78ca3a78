// The layer option `waitForReplicas` (issue 18): a write that carries a task (a send to a named channel, a delayed
// send, a worker's settlement) resolves only once a replica has it. A private master and its replica; the replica is
// paused with SIGSTOP (still connected, acknowledging nothing), as a lagging or cut-off replica would be.
import type { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'

import { RedisUnavailableError } from '../../src/index.js'
import { RedisKeys } from '../../src/layers/redis/keys.js'
import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import type { RedisLayerOptions } from '../../src/layers/redis/redis-options.js'
import { startPrivateRedis, type RunningRedis } from '../setup/provision-redis.js'
import { RawClients, redisServerBin, uniquePrefix, waitFor } from './helpers.js'

const WAIT = { replicas: 1, timeoutMs: 300 } as const

describe('waitForReplicas', () => {
  let master: RunningRedis | undefined
  let replica: RunningRedis | undefined
  let paused = false
  const raw = new RawClients()
  const layers: RedisChannelLayer[] = []

  beforeAll(async () => {
    const bin = redisServerBin()
    master = await startPrivateRedis(bin)
    replica = await startPrivateRedis(bin, { extraArgs: ['--replicaof', '127.0.0.1', String(master.port)] })
    const probe = `${uniquePrefix()}probe`
    await raw.connect(master.url).set(probe, '1')
    await waitFor('the replica to be in sync', async () => (await raw.connect(replica!.url).get(probe)) === '1', {
      timeoutMs: 10_000,
    })
  })

  afterEach(async () => {
    resume()
    for (const layer of layers.splice(0)) await layer.close()
  })

  afterAll(async () => {
    raw.closeAll()
    await replica?.stop()
    await master?.stop()
  })

  function pause(): void {
    process.kill(replica!.pid, 'SIGSTOP')
    paused = true
  }

  function resume(): void {
    if (paused) process.kill(replica!.pid, 'SIGCONT')
    paused = false
  }

  function layer(options: RedisLayerOptions = {}): RedisChannelLayer {
    const made = new RedisChannelLayer({
      hosts: [master!.url],
      prefix: uniquePrefix(),
      taskChannels: ['jobs'],
      waitForReplicas: WAIT,
      ...options,
    })
    layers.push(made)
    return made
  }

  const onReplica = (): Redis => raw.connect(replica!.url)

  /** How `promise` settled, and after how long. */
  async function outcome<T>(promise: Promise<T>): Promise<{ value?: T; error?: unknown; ms: number }> {
    const started = performance.now()
    const settled = await promise.then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    )
    return { ...settled, ms: performance.now() - started }
  }

  it('resolves a send once the replica has it', async () => {
    const made = layer()
    for (let i = 1; i <= 20; i++) {
      await made.send('jobs', { type: 'job.run', idempotencyKey: `t${i}` })
      // Read at once from the replica: WAIT answered only after it had the write.
      expect(await onReplica().zcard(`${made.options.prefix}jobs`)).toBe(i)
    }
    await made.send('plain', { type: 'chat.message', text: 'hi' }, { delayMs: 60_000 })
    expect(await onReplica().zcard(`${made.options.prefix}:switchyard:delayed:plain`)).toBe(1)
  })

  it('fails a send the replica does not acknowledge within timeoutMs with RedisUnavailableError; it ran', async () => {
    const made = layer()
    const without = layer({ waitForReplicas: undefined })
    await made.ready()
    await without.ready()
    pause()
    const { error, ms } = await outcome(made.send('jobs', { type: 'job.run', idempotencyKey: 'k1' }))
    expect(error).toBeInstanceOf(RedisUnavailableError)
    expect((error as Error).message).toMatch(/ran the write, but 0 of the 1 replicas `waitForReplicas` asks for/)
    expect(made.stats().replicaWaitShortfalls).toBe(1)
    expect(ms).toBeGreaterThanOrEqual(WAIT.timeoutMs - 20)
    const onMaster = raw.connect(master!.url)
    expect(await onMaster.zcard(`${made.options.prefix}jobs`)).toBe(1)
    // What is not waited for goes on: a layer without the option, a group send, a process channel's message.
    expect((await outcome(without.send('jobs', { type: 'job.run' }))).error).toBeUndefined()
    const own = await made.newChannel()
    await made.groupAdd('room', own)
    const quick = await outcome(
      Promise.all([made.groupSend('room', { type: 'chat.message' }), made.send(own, { type: 'a.b' })]),
    )
    expect(quick.error).toBeUndefined()
    expect(quick.ms).toBeLessThan(WAIT.timeoutMs)
    // Back: sent again with its idempotencyKey (one task: the copy that comes second is acknowledged without a run).
    resume()
    await made.send('jobs', { type: 'job.run', idempotencyKey: 'k1' })
    expect(await onReplica().zcard(`${made.options.prefix}jobs`)).toBe(2)
  })

  it("waits for a worker's settlement, not for a claim alone, and the ack sent again sticks", async () => {
    const made = layer()
    await made.send('jobs', { type: 'job.run', idempotencyKey: 'w1' })
    await made.send('jobs', { type: 'job.run', idempotencyKey: 'w2' })
    pause()
    const claiming = await outcome(made.tasks.settle('jobs', [], 1, 30_000))
    expect(claiming.error).toBeUndefined()
    expect(claiming.ms).toBeLessThan(WAIT.timeoutMs)
    const task = claiming.value?.[0]
    expect(task?.taskId).toBe('w1')
    const acking = await outcome(made.tasks.settle('jobs', [{ action: 'ack', task: task! }], 0, 0))
    expect(acking.error).toBeInstanceOf(RedisUnavailableError)
    expect(made.stats().replicaWaitShortfalls).toBe(1)
    resume()
    await made.tasks.settle('jobs', [{ action: 'ack', task: task! }], 0, 0)
    const state = new RedisKeys(made.options.prefix).taskState('w1')
    expect(await onReplica().hget(state, 'status')).toBe('succeeded')
  })

  it('gives back at once what a settle call that fell short claimed, rather than at its deadline', async () => {
    const made = layer()
    for (const key of ['g1', 'g2', 'g3']) await made.send('jobs', { type: 'job.run', idempotencyKey: key })
    const [first] = await made.tasks.settle('jobs', [], 1, 60_000)
    expect(first?.taskId).toBe('g1')
    pause()
    // Acks g1 and claims g2 and g3 in one call: it runs, the replica acknowledges nothing.
    const failed = await outcome(made.tasks.settle('jobs', [{ action: 'ack', task: first! }], 2, 60_000))
    expect(failed.error).toBeInstanceOf(RedisUnavailableError)
    resume()
    // Their visibility deadline is a minute away: claimable now only if the failed call released them.
    const again = await made.tasks.settle('jobs', [{ action: 'ack', task: first! }], 2, 60_000)
    expect(again.map((task) => task.taskId).sort()).toEqual(['g2', 'g3'])
    expect(again.every((task) => task.attempt === 1)).toBe(true)
    const state = new RedisKeys(made.options.prefix).taskState('g1')
    expect(await onReplica().hget(state, 'status')).toBe('succeeded')
  })

  it('rejects a malformed waitForReplicas in the constructor', () => {
    for (const bad of [
      {},
      { replicas: 0 },
      { replicas: 1, timeoutMs: 0 },
      { replicas: 1.5 },
      { replicas: 1, timeout: 500 },
      1,
    ]) {
      expect(() => new RedisChannelLayer({ hosts: [master!.url], waitForReplicas: bad as never })).toThrow(
        /waitForReplicas/,
      )
    }
    const made = layer()
    expect(made.options.waitForReplicas).toEqual(WAIT)
    expect(Object.isFrozen(made.options.waitForReplicas)).toBe(true)
  })
})
