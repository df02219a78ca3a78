// `switchyard tasks cancel <id>` against a real Redis layer: the command opens its own layer from REDIS_URL and
// --prefix, as it would in another process; this test sets tasks up and reads their states through a second one.
import { randomBytes } from 'node:crypto'

import { afterEach, describe, expect, inject, it } from 'vitest'

import { tasksCommand } from '../../src/cli/commands/tasks.js'
import { InMemoryChannelLayer } from '../../src/layers/memory/memory-layer.js'
import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'

const redisUrl = inject('redisUrl')
const open: RedisChannelLayer[] = []
afterEach(async () => {
  for (const layer of open.splice(0)) {
    await layer.flush()
    await layer.close()
  }
})

interface Result {
  code: number
  out: string
  err: string
}

async function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  let out = ''
  let err = ''
  const code = await tasksCommand(args, { out: (text) => (out += text), err: (text) => (err += text) }, { env })
  return { code, out, err }
}

/** A Redis layer on a prefix of its own, with the tasks `queued-1` (queued) and `running-1` (claimed). */
async function setup(): Promise<{ layer: RedisChannelLayer; prefix: string; env: NodeJS.ProcessEnv }> {
  const prefix = `c${randomBytes(6).toString('hex')}`
  const layer = new RedisChannelLayer({ hosts: [redisUrl], prefix })
  open.push(layer)
  await layer.tasks.declareTaskChannels(['jobs'])
  await layer.send('jobs', { type: 'job.run', idempotencyKey: 'running-1' })
  await layer.send('jobs', { type: 'job.run', idempotencyKey: 'queued-1' })
  await layer.tasks.claim('jobs', 1, 30_000)
  return { layer, prefix, env: { REDIS_URL: redisUrl } }
}

describe('switchyard tasks cancel', () => {
  it('cancels a queued and a running task, and says so again for a cancelled one (exit 0)', async () => {
    const { layer, prefix, env } = await setup()
    expect(await run(['cancel', 'queued-1', '--prefix', prefix], env)).toEqual({
      code: 0,
      err: '',
      out: 'Cancelled task "queued-1" (queued: it will not run)\n',
    })
    expect(await run(['cancel', '--prefix', prefix, 'running-1'], env)).toEqual({
      code: 0,
      err: '',
      out: 'Cancelled task "running-1" (running: its worker aborts ctx.signal within one renewal tick)\n',
    })
    expect(await layer.tasks.getTaskState('queued-1')).toMatchObject({ status: 'cancelled' })
    expect(await layer.tasks.getTaskState('running-1')).toMatchObject({ status: 'cancelled' })
    expect(await run(['cancel', 'queued-1', '--prefix', prefix], env)).toEqual({
      code: 0,
      err: '',
      out: 'Task "queued-1" was already cancelled\n',
    })
    expect(await layer.tasks.claim('jobs', 10, 30_000)).toEqual([])
  })

  it('exits 1 for an unknown id or a finished task, changing nothing', async () => {
    const { layer, prefix, env } = await setup()
    const [task] = await layer.tasks.claim('jobs', 1, 30_000)
    await layer.tasks.ack(task!)
    expect(await run(['cancel', 'nobody', '--prefix', prefix], env)).toEqual({
      code: 1,
      out: '',
      err: 'switchyard tasks: no task "nobody" (unknown, or its state expired after taskStateRetentionMs)\n',
    })
    expect(await run(['cancel', 'queued-1', '--prefix', prefix], env)).toEqual({
      code: 1,
      out: '',
      err: 'switchyard tasks: task "queued-1" already succeeded; nothing to cancel\n',
    })
    expect(await layer.tasks.getTaskState('queued-1')).toMatchObject({ status: 'succeeded' })
  })

  it('works on an exported in-memory layer', async () => {
    const layer = new InMemoryChannelLayer({ taskChannels: ['jobs'] })
    await layer.send('jobs', { type: 'job.run', idempotencyKey: 'mem-1' })
    let out = ''
    const code = await tasksCommand(
      ['cancel', 'mem-1', '--app', 'app.ts'],
      { out: (text) => (out += text), err: () => undefined },
      { env: {}, loadApp: async (path) => ({ path, application: async () => undefined, layer }) },
    )
    expect({ code, out }).toEqual({ code: 0, out: 'Cancelled task "mem-1" (queued: it will not run)\n' })
  })

  it('refuses bad arguments with its usage (exit 2)', async () => {
    for (const args of [[], ['cancel'], ['cancel', 'a', 'b'], ['stop', 'a'], ['cancel', 'a', '--force']]) {
      const result = await run(args)
      expect(result.code).toBe(2)
      expect(result.err).toContain('Usage: switchyard tasks')
    }
    expect((await run(['--help'])).out).toContain('cancel <id>')
  })
})

describe('switchyard tasks state', () => {
  it('prints a task state (no result in the text), the whole state with --json, exit 1 for an unknown id', async () => {
    const { layer, prefix, env } = await setup()
    const [task] = await layer.tasks.claim('jobs', 1, 30_000)
    await layer.tasks.ack(task!, { result: { secret: 'never in the text' } })
    const text = await run(['state', 'queued-1', '--prefix', prefix], env)
    expect(text.code).toBe(0)
    expect(text.out).toMatch(/^"queued-1": succeeded \(attempts 1, channel jobs, updated \d{4}-\d\d-\d\dT[\d:.]+Z\)\n$/)
    expect(text.out).not.toContain('never in the text')
    const json = await run(['state', 'queued-1', '--json', '--prefix', prefix], env)
    expect(JSON.parse(json.out)).toMatchObject({
      taskId: 'queued-1',
      status: 'succeeded',
      result: { secret: 'never in the text' },
    })
    expect(await run(['state', 'nobody', '--prefix', prefix], env)).toEqual({
      code: 1,
      out: '',
      err: 'switchyard tasks: no task "nobody" (unknown, or its state expired after taskStateRetentionMs)\n',
    })
  })

  it("lists a chord's steps, and cancel takes the chord's id", async () => {
    const { layer, prefix, env } = await setup()
    const step = { channel: 'images', message: { type: 'image.resize' } }
    await layer.tasks.chord([step, step], { channel: 'images', message: { type: 'album.publish' } }, { id: 'album-1' })
    const [first] = await layer.tasks.claim('images', 1, 30_000)
    await layer.tasks.ack(first!)
    const { code, out } = await run(['state', 'album-1', '--prefix', prefix], env)
    expect(code).toBe(0)
    expect(out.split('\n').slice(1)).toEqual([
      '  chord of 3 tasks:',
      '    album-1.0     images  succeeded',
      '    album-1.1     images  queued',
      '    album-1.then  images  not sent',
      '',
    ])
    expect(out).toMatch(/^"album-1": running \(attempts 1, channel images,/)
    expect((await run(['cancel', 'album-1', '--prefix', prefix], env)).out).toBe(
      'Cancelled task "album-1" (running: its worker aborts ctx.signal within one renewal tick)\n',
    )
    expect((await layer.tasks.getFlowState('album-1'))?.status).toBe('cancelled')
  })
})
