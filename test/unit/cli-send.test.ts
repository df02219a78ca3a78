import { randomBytes } from 'node:crypto'

import { afterEach, describe, expect, inject, it } from 'vitest'

import { sendCommand } from '../../src/cli/commands/send.js'
import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'

const redisUrl = inject('redisUrl')
const layers: RedisChannelLayer[] = []

afterEach(async () => {
  for (const layer of layers.splice(0)) {
    await layer.flush()
    await layer.close()
  }
})

interface Result {
  code: number
  out: string
  err: string
}

async function send(args: string[], env: NodeJS.ProcessEnv = { REDIS_URL: redisUrl }): Promise<Result> {
  let out = ''
  let err = ''
  const code = await sendCommand(args, { out: (text) => (out += text), err: (text) => (err += text) }, { env })
  return { code, out, err }
}

function redisLayer(): { layer: RedisChannelLayer; prefix: string } {
  const prefix = `cs${randomBytes(5).toString('hex')}`
  const layer = new RedisChannelLayer({ hosts: [redisUrl], prefix })
  layers.push(layer)
  return { layer, prefix }
}

describe('switchyard send', () => {
  it('sends one message onto a channel of the Redis layer, where a receiver takes it', async () => {
    const { layer, prefix } = redisLayer()
    const result = await send(['--prefix', prefix, 'emails', '{"type": "email.send", "userId": 42, "tags": ["a"]}'])
    expect(result).toEqual({ code: 0, out: 'switchyard send: email.send sent to emails\n', err: '' })
    expect(await layer.receive('emails')).toEqual({ type: 'email.send', userId: 42, tags: ['a'] })
  })

  it('delays delivery with --delay-ms', async () => {
    const { layer, prefix } = redisLayer()
    const sentAt = Date.now()
    const result = await send(['--prefix', prefix, '--delay-ms', '300', 'emails', '{"type": "email.send"}'])
    expect(result.out).toBe('switchyard send: email.send sent to emails (due in 300 ms)\n')
    expect(await layer.receive('emails')).toEqual({ type: 'email.send' })
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(300)
  })

  it.each([
    [['emails', '{"type": '], /the message is not valid JSON/],
    [['emails', '[1, 2]'], /must be a JSON object with a "type"/],
    [['emails', '{"userId": 42}'], /has no string "type"/],
    [['emails'], /takes a channel and a message/],
    [['emails', '{"type": "a.b"}', 'extra'], /unexpected argument "extra"; quote the message JSON/],
    [['--delay-ms=1.5', 'emails', '{"type": "a.b"}'], /--delay-ms must be a non-negative integer, got "1.5"/],
  ])('refuses %j with usage and exit 2', async (args, message) => {
    const result = await send(args)
    expect(result.code).toBe(2)
    expect(result.out).toBe('')
    expect(result.err).toMatch(message)
    expect(result.err).toContain('Usage: switchyard send')
  })

  it('prints the coded error and exits 1 when the layer refuses the message', async () => {
    const { prefix } = redisLayer()
    const result = await send(['--prefix', prefix, 'bad channel!', '{"type": "a.b"}'])
    expect(result.code).toBe(1)
    expect(result.err).toMatch(/^switchyard send: SWY_INVALID_CHANNEL_NAME: /)
  })

  it('refuses to send into a new in-memory layer, which nothing else reads', async () => {
    const result = await send(['emails', '{"type": "a.b"}'], {})
    expect(result.code).toBe(1)
    expect(result.err).toMatch(/REDIS_URL is not set and no --app names a layer/)
  })
})
