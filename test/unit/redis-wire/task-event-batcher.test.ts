// TaskEventBatcher without Redis: a fake shard answers the listener checks, so the test sees how events are gathered
// into checks and which are sent. The Redis side (groups-with-members.lua) runs in the task-store conformance suite.
import { describe, expect, it } from 'vitest'

import type { Message } from '../../../src/layers/channel-layer.js'
import { RedisKeys } from '../../../src/layers/redis/keys.js'
import type { RedisShard } from '../../../src/layers/redis/redis-shard.js'
import { MIN_CHECK_INTERVAL_MS, TaskEventBatcher } from '../../../src/layers/redis/tasks/task-event-batcher.js'

interface Fake {
  readonly batcher: TaskEventBatcher
  /** The group keys of each check, and when it was made. */
  readonly checks: { readonly keys: string[]; readonly at: number }[]
  readonly sent: [string, Message][]
}

function fake({ listened = new Set<string>(), history = new Set<string>(), fail = false } = {}): Fake {
  const keys = new RedisKeys('asgi')
  const checks: Fake['checks'] = []
  const sent: Fake['sent'] = []
  const client = {
    evalsha: async (_sha: string, count: number, ...groupKeys: string[]) => {
      checks.push({ keys: groupKeys.slice(0, count), at: performance.now() })
      if (fail) throw new Error('Redis is away')
      return groupKeys.slice(0, count).map((key) => (listened.has(key.slice(keys.groupPrefix.length)) ? 1 : 0))
    },
  }
  const shard = { keys, call: (command: (redis: typeof client) => Promise<unknown>) => command(client) }
  const batcher = new TaskEventBatcher({
    shardForGroup: () => shard as unknown as RedisShard,
    keepsHistory: (group) => history.has(group),
    groupSend: async (group, message) => {
      sent.push([group, message])
    },
  })
  return { batcher, checks, sent }
}

const event = (taskId: string): Message => ({ type: 'task.succeeded', taskId })

describe('TaskEventBatcher', () => {
  it('checks the events of one turn together and sends only to the groups with members, in order', async () => {
    const { batcher, checks, sent } = fake({ listened: new Set(['a', 'c']) })
    await Promise.all(['a', 'b', 'c', 'a'].map((group, i) => batcher.send(group, event(`${group}${i}`))))
    expect(checks.map((check) => check.keys)).toEqual([['asgi:group:a', 'asgi:group:b', 'asgi:group:c']])
    expect(sent).toEqual([
      ['a', event('a0')],
      ['c', event('c2')],
      ['a', event('a3')],
    ])
  })

  it('checks a lone event at once, and under load waits MIN_CHECK_INTERVAL_MS since the last check to gather more', async () => {
    const { batcher, checks } = fake()
    const afterTick = (): Promise<void> =>
      new Promise((resolve) => {
        process.nextTick(resolve)
      })
    const lone = batcher.send('a', event('1'))
    await afterTick()
    expect(checks).toHaveLength(1)
    await lone
    const gathered = Promise.all([batcher.send('b', event('2')), batcher.send('c', event('3'))])
    await afterTick()
    expect(checks).toHaveLength(1)
    await gathered
    expect(checks).toHaveLength(2)
    expect(checks[1]!.keys).toEqual(['asgi:group:b', 'asgi:group:c'])
    expect(checks[1]!.at - checks[0]!.at).toBeGreaterThanOrEqual(MIN_CHECK_INTERVAL_MS - 1)
  })

  it('gives the events checked together one promise, so a busy worker holds one per check, not one per task', async () => {
    const { batcher } = fake()
    const first = batcher.send('a', event('1'))
    expect(batcher.send('b', event('2'))).toBe(first)
    await first
    expect(batcher.send('c', event('3'))).not.toBe(first)
  })

  it('sends to a group with history without a check: it keeps the event for members who join later', async () => {
    const { batcher, checks, sent } = fake({ history: new Set(['h']) })
    await batcher.send('h', event('1'))
    expect(checks).toEqual([])
    expect(sent).toEqual([['h', event('1')]])
  })

  it('rejects every event of a check that failed, and sends none', async () => {
    const { batcher, sent } = fake({ listened: new Set(['a']), fail: true })
    const results = await Promise.allSettled([batcher.send('a', event('1')), batcher.send('b', event('2'))])
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected'])
    expect(sent).toEqual([])
  })
})
