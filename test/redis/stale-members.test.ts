import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

import { afterEach, describe, expect, inject, it } from 'vitest'

import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import { RawClients, sleep, sigkill, startReadyFixture, uniquePrefix, waitFor } from './helpers.js'

const HEARTBEAT_MS = 100
const STALE_AFTER_MS = 500
const FIXTURE = fileURLToPath(new URL('./fixtures/grouped-process.ts', import.meta.url))

const redisUrl = inject('redisUrl')
const raw = new RawClients()
const layers: RedisChannelLayer[] = []
const children: ChildProcess[] = []

interface GroupedProcess {
  readonly child: ChildProcess
  readonly channels: readonly string[]
}

/** Starts the fixture in its own Node process and waits for its members to be in `group`. */
async function startGroupedProcess(prefix: string, group: string, count: number): Promise<GroupedProcess> {
  const { child, channels } = await startReadyFixture(FIXTURE, [
    redisUrl,
    prefix,
    group,
    String(count),
    String(HEARTBEAT_MS),
    String(STALE_AFTER_MS),
  ])
  children.push(child)
  return { child, channels }
}

function liveLayer(prefix: string): RedisChannelLayer {
  const layer = new RedisChannelLayer({
    hosts: [redisUrl],
    prefix,
    heartbeatIntervalMs: HEARTBEAT_MS,
    staleAfterMs: STALE_AFTER_MS,
  })
  layers.push(layer)
  return layer
}

afterEach(async () => {
  for (const child of children.splice(0)) await sigkill(child)
  for (const layer of layers.splice(0)) {
    await layer.flush()
    await layer.close()
  }
  raw.closeAll()
})

describe('processes that die without cleaning up', () => {
  it('are removed from their groups by a live process within staleAfterMs and a couple of heartbeats', async () => {
    const prefix = uniquePrefix()
    const client = raw.connect(redisUrl)
    const room = `${prefix}:group:room`
    const live = liveLayer(prefix)
    const mine = [await live.newChannel(), await live.newChannel()]
    for (const channel of mine) await live.groupAdd('room', channel)
    const dead = await startGroupedProcess(prefix, 'room', 3)
    expect(dead.channels).toHaveLength(3)
    expect((await client.zrange(room, 0, '-1')).sort()).toEqual([...mine, ...dead.channels].sort())
    const deadQueue = prefix + dead.channels[0]!.slice(0, dead.channels[0]!.indexOf('!') + 1)
    expect(await client.hexists(`${prefix}:switchyard:processes`, deadQueue)).toBe(1)

    const exited = new Promise((resolve) => dead.child.once('exit', resolve))
    dead.child.kill('SIGKILL')
    await exited
    const took = await waitFor(
      'the dead members to leave the group',
      async () => (await client.zrange(room, 0, '-1')).length === mine.length,
      { timeoutMs: 5_000, intervalMs: 10 },
    )
    // Its last beat was at most one interval before the kill; a live process sweeps on each of its own beats.
    // The slack is for timers on a busy two-core machine.
    expect(took).toBeLessThanOrEqual(STALE_AFTER_MS + 2 * HEARTBEAT_MS + 150)
    expect((await client.zrange(room, 0, '-1')).sort()).toEqual([...mine].sort())
    expect(live.stats().staleProcessesSwept).toBeGreaterThanOrEqual(1)
    expect(await client.hexists(`${prefix}:switchyard:processes`, deadQueue)).toBe(0)
    // The live members still get group messages.
    await live.groupSend('room', { type: 'room.after' })
    for (const channel of mine) {
      expect(await live.receive(channel, { signal: AbortSignal.timeout(2_000) })).toEqual({ type: 'room.after' })
    }
  })

  it('never sweeps a process that keeps its heartbeat', async () => {
    const prefix = uniquePrefix()
    const client = raw.connect(redisUrl)
    const room = `${prefix}:group:room`
    const live = liveLayer(prefix)
    const mine = await live.newChannel()
    await live.groupAdd('room', mine)
    const other = await startGroupedProcess(prefix, 'room', 3)
    // Many stale windows, each with five sweeps by each process.
    await sleep(STALE_AFTER_MS * 4)
    expect((await client.zrange(room, 0, '-1')).sort()).toEqual([mine, ...other.channels].sort())
    expect(live.stats().staleProcessesSwept).toBe(0)
    expect(other.child.exitCode).toBeNull()
  })

  it('re-adds its memberships when it finds itself swept (a long stall, or Redis lost its data)', async () => {
    const prefix = uniquePrefix()
    const client = raw.connect(redisUrl)
    const room = `${prefix}:group:room`
    const live = liveLayer(prefix)
    const mine = await live.newChannel()
    await live.groupAdd('room', mine)
    await waitFor('the first heartbeat', async () => (await client.hlen(`${prefix}:switchyard:processes`)) === 1)
    // What another process's sweep does to a process it believed dead.
    await client.del(room)
    await client.del(`${prefix}:switchyard:processes`)
    await waitFor('the membership to come back', async () => (await client.zrange(room, 0, '-1')).includes(mine), {
      timeoutMs: 2_000,
    })
    await live.groupSend('room', { type: 'room.back' })
    expect(await live.receive(mine, { signal: AbortSignal.timeout(2_000) })).toEqual({ type: 'room.back' })
  })
})
