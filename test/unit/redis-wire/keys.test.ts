import { readdirSync, readFileSync } from 'node:fs'

import { describe, expect, it } from 'vitest'

import { RedisKeys } from '../../../src/layers/redis/keys.js'

const REDIS_DIR = new URL('../../../src/layers/redis/', import.meta.url)

/** Every .ts and .lua file under src/layers/redis, as [path, text without comments]. */
function redisSources(): [string, string][] {
  return readdirSync(REDIS_DIR, { recursive: true, encoding: 'utf8' })
    .filter((path) => path.endsWith('.ts') || path.endsWith('.lua'))
    .map((path) => {
      const text = readFileSync(new URL(path, REDIS_DIR), 'utf8')
      const code = path.endsWith('.lua')
        ? text.replace(/--.*$/gm, '')
        : text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '')
      return [path, code]
    })
}

describe('RedisKeys', () => {
  const keys = new RedisKeys('asgi')

  it("keeps channels_redis' names for queues and groups", () => {
    expect(keys.queue('chat')).toBe('asgichat')
    expect(keys.queue('specific.abc!local')).toBe('asgispecific.abc!')
    expect(keys.group('room')).toBe('asgi:group:room')
  })

  it('builds the keys scripts derive from a prefix exactly as its methods do', () => {
    expect(keys.queuePrefix + 'specific.abc!').toBe(keys.queue('specific.abc!x'))
    expect(keys.delayedPrefix + 'jobs').toBe(keys.delayed('jobs'))
    expect(keys.wakePrefix + 'jobs').toBe(keys.wake('jobs'))
    expect(keys.groupPrefix + 'room').toBe(keys.group('room'))
    expect(keys.ownerGroupsPrefix + 'chat').toBe(keys.ownerGroups('chat'))
    expect(keys.taskStatePrefix + 't-1').toBe(keys.taskState('t-1'))
    expect(keys.deadLetterPrefix('jobs') + 'd-1').toBe(keys.deadLetter('jobs', 'd-1'))
    expect(keys.delayed('jobs').startsWith(keys.bookkeepingPrefix)).toBe(true)
  })

  it('reads names back from queue and wake marker keys', () => {
    expect(keys.queueName(keys.queue('specific.abc!x'))).toBe('specific.abc!')
    expect(keys.queueName(keys.queue('chat'))).toBe('chat')
    expect(keys.wakeChannel(keys.wake('jobs'))).toBe('jobs')
    expect(keys.wakeChannel(keys.queue('jobs'))).toBeUndefined()
  })

  it('is the only place that spells a key: no other Redis source names `:switchyard:` or `:group:`', () => {
    const offenders = redisSources()
      .filter(([path]) => path !== 'keys.ts')
      .filter(([, code]) => code.includes(':switchyard:') || code.includes(':group:'))
      .map(([path]) => path)
    expect(offenders).toEqual([])
  })
})
