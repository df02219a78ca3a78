import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

import { afterEach, describe, expect, inject, it } from 'vitest'

import type { Message } from '../../src/layers/channel-layer.js'
import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import { RawClients, sigkill, startReadyFixture, uniquePrefix, waitFor } from './helpers.js'

// Issue 16: "the presence list is right across two server processes on Redis, and after one is killed with
// SIGKILL, within staleAfterMs".
const HEARTBEAT_MS = 100
const STALE_AFTER_MS = 500
const GROUP = 'chat.room'
const FIXTURE = fileURLToPath(new URL('./fixtures/present-process.ts', import.meta.url))

const redisUrl = inject('redisUrl')
const raw = new RawClients()
const layers: RedisChannelLayer[] = []
const children: ChildProcess[] = []

/** Starts the fixture in its own Node process; resolves with it and its present channels. */
async function startPresentProcess(prefix: string, count: number) {
  const { child, channels } = await startReadyFixture(FIXTURE, [
    redisUrl,
    prefix,
    GROUP,
    String(count),
    String(HEARTBEAT_MS),
    String(STALE_AFTER_MS),
  ])
  children.push(child)
  const kill = async (): Promise<number> => {
    await sigkill(child)
    return Date.now()
  }
  return { channels, kill }
}

function liveLayer(prefix: string): RedisChannelLayer {
  const layer = new RedisChannelLayer({
    hosts: [redisUrl],
    prefix,
    presence: ['chat.*'],
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

const channelsOf = async (layer: RedisChannelLayer): Promise<string[]> =>
  (await layer.presence.list(GROUP)).map((entry) => entry.channel)

describe('presence of a process killed with SIGKILL', () => {
  it('is listed by another process while it lives, and not listed within staleAfterMs of its death', async () => {
    const prefix = uniquePrefix()
    const live = liveLayer(prefix)
    const mine = await live.newChannel()
    await live.presence.join(GROUP, mine, { me: true })
    const dead = await startPresentProcess(prefix, 3)
    expect((await channelsOf(live)).sort()).toEqual([mine, ...dead.channels].sort())
    const killedAt = await dead.kill()
    await waitFor('its entries to leave the list', async () => (await channelsOf(live)).length === 1, {
      timeoutMs: 5_000,
      intervalMs: 10,
    })
    // Its last beat was at most one interval before the kill; the slack is for a busy two-core machine.
    expect(Date.now() - killedAt).toBeLessThanOrEqual(STALE_AFTER_MS + 150)
    expect(await live.presence.list(GROUP)).toEqual([
      { channel: mine, info: { me: true }, joinedAt: expect.any(Number) as number },
    ])
  })

  it('leaves Redis, announced by presence.leave, even when nobody lists the group', async () => {
    const prefix = uniquePrefix()
    const client = raw.connect(redisUrl)
    const hash = `${prefix}:switchyard:presence:${GROUP}`
    const live = liveLayer(prefix)
    const watcher = await live.newChannel()
    await live.groupAdd(GROUP, watcher)
    await live.presence.join(GROUP, 'user.plain')
    const dead = await startPresentProcess(prefix, 2)
    const joins: Message[] = []
    for (let i = 0; i < 3; i++) joins.push(await live.receive(watcher, { signal: AbortSignal.timeout(2_000) }))
    expect(joins.map((message) => message.type)).toEqual(['presence.join', 'presence.join', 'presence.join'])
    expect(await client.hlen(hash)).toBe(3)
    await dead.kill()
    await waitFor('the sweep to remove its entries', async () => (await client.hlen(hash)) === 1, {
      timeoutMs: 5_000,
      intervalMs: 20,
    })
    expect(await client.hkeys(hash)).toEqual(['user.plain'])
    const leaves: Message[] = []
    for (let i = 0; i < 2; i++) leaves.push(await live.receive(watcher, { signal: AbortSignal.timeout(2_000) }))
    expect(leaves.map((message) => message.channel).sort()).toEqual([...dead.channels].sort())
    expect(leaves.every((message) => message.type === 'presence.leave')).toBe(true)
    // The dead process's owner-presence set goes with it: the sweep unlinks it after the last leave was sent, so
    // it may still be there the moment that leave arrives.
    const nonLocal = dead.channels[0]!.slice(0, dead.channels[0]!.indexOf('!') + 1)
    const owner = `${prefix}:switchyard:owner-presence:${nonLocal}`
    await waitFor('the sweep to unlink its owner-presence set', async () => (await client.exists(owner)) === 0, {
      timeoutMs: 2_000,
      intervalMs: 20,
    })
  })
})
