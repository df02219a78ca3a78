import { randomBytes } from 'node:crypto'

import { Redis } from 'ioredis'
import { afterEach, describe, expect, inject, it } from 'vitest'

import { inspectCommand } from '../../src/cli/commands/inspect.js'
import { purgeCommand } from '../../src/cli/commands/purge.js'
import type { ChannelLayer } from '../../src/layers/channel-layer.js'
import { InMemoryChannelLayer } from '../../src/layers/memory/memory-layer.js'
import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import type { LayerSnapshot } from '../../src/layers/snapshot.js'
import type { ScheduleInfo, WorkerReport } from '../../src/tasks/task-store.js'

const redisUrl = inject('redisUrl')
const DAY_MS = 86_400_000

const layers: RedisChannelLayer[] = []
const clients: Redis[] = []

afterEach(async () => {
  for (const layer of layers.splice(0)) {
    await layer.flush()
    await layer.close()
  }
  for (const client of clients.splice(0)) client.disconnect()
})

interface Result {
  code: number
  out: string
  err: string
}

type Command = typeof inspectCommand

async function run(command: Command, prefix: string, args: string[]): Promise<Result> {
  let out = ''
  let err = ''
  const code = await command(
    [...args, '--prefix', prefix],
    { out: (text) => (out += text), err: (text) => (err += text) },
    { env: { REDIS_URL: redisUrl } },
  )
  return { code, out, err }
}

function redisLayer(prefix: string): RedisChannelLayer {
  const layer = new RedisChannelLayer({ hosts: [redisUrl], prefix })
  layers.push(layer)
  return layer
}

function raw(): Redis {
  const client = new Redis(redisUrl)
  clients.push(client)
  return client
}

function workerReport(fields: Partial<WorkerReport>): WorkerReport {
  return {
    id: 'web-1:101:jobs',
    host: 'web-1',
    pid: 101,
    channel: 'jobs',
    concurrency: 8,
    inFlight: 2,
    processed: 40,
    failed: 3,
    retried: 2,
    dead: 1,
    startedAt: Date.now() - 60_000,
    renewalMs: 60_000,
    ...fields,
  }
}

/**
 * Two processes on one prefix: jobs has 3 sent, 1 claimed and buried, 1 claimed and running; emails has 2
 * queued; chat has two members in process A, one in B, and `bot`; one worker reported; one schedule, which fired
 * once.
 */
async function createState(
  prefix: string,
): Promise<{ a: RedisChannelLayer; b: RedisChannelLayer; nightly: ScheduleInfo }> {
  const a = redisLayer(prefix)
  const b = redisLayer(prefix)
  const nightly = await b.tasks.schedule('nightly', {
    channel: 'reports',
    message: { type: 'report.build', secret: 'not-printed' },
    cron: '30 3 * * *',
    timezone: 'Europe/Paris',
  })
  await b.tasks.claimDueSchedules(nightly.nextRunMs)
  for (const key of ['j1', 'j2', 'j3']) await a.send('jobs', { type: 'job.run', idempotencyKey: key })
  const [buried] = await a.tasks.claim('jobs', 1, 30_000)
  if (buried === undefined) throw new Error('nothing claimed')
  await a.tasks.bury(buried, { error: 'Error: broken' })
  await a.tasks.claim('jobs', 1, 30_000)
  await a.send('emails', { type: 'email.send', n: 1 })
  await a.send('emails', { type: 'email.send', n: 2 })
  for (const channel of [await a.newChannel(), await a.newChannel(), await b.newChannel(), 'bot']) {
    await b.groupAdd('chat', channel)
  }
  await a.tasks.reportWorker(workerReport({}))
  return { a, b, nightly }
}

describe('switchyard inspect on Redis', () => {
  it('prints channels, groups per process, workers, servers, dead letters and schedules as aligned tables', async () => {
    const prefix = `c${randomBytes(6).toString('hex')}`
    const { a, b, nightly } = await createState(prefix)
    const result = await run(inspectCommand, prefix, [])
    expect(result.err).toBe('')
    expect(result.code).toBe(0)
    const pa = `specific.${a.clientId}!`
    const pb = `specific.${b.clientId}!`
    const [first, second] = [pa, pb].sort()
    const sections = result.out.split('\n\n')
    expect(sections[0]).toBe(
      [
        'Channels',
        'CHANNEL  BACKLOG  IN FLIGHT  DELAYED  DEAD LETTERS',
        'emails   2        0          0        0',
        'jobs     1        1          0        1',
      ].join('\n'),
    )
    // Process names are `specific.` + 32 hex + `!`: 42 characters, so the columns are known.
    expect(sections[1]).toBe(
      [
        'Groups',
        `GROUP  MEMBERS  PROCESS${' '.repeat(35)}  PROCESS MEMBERS`,
        `chat   4        bot${' '.repeat(39)}  1`,
        `                ${first ?? ''}  ${first === pa ? 2 : 1}`,
        `                ${second ?? ''}  ${second === pa ? 2 : 1}`,
      ].join('\n'),
    )
    const workerLines = (sections[2] ?? '').split('\n')
    expect(workerLines[0]).toBe('Workers')
    expect(workerLines[1]?.split(/\s{2,}/)).toEqual([
      'HOST',
      'PID',
      'CHANNEL',
      'ALIVE',
      'HEARTBEAT',
      'CONCURRENCY',
      'IN FLIGHT',
      'PROCESSED',
      'FAILED',
      'RETRIED',
      'DEAD',
    ])
    expect(workerLines[2]?.split(/\s{2,}/)).toEqual([
      'web-1',
      '101',
      'jobs',
      'yes',
      expect.stringMatching(/^\d+ms ago$/),
      '8',
      '2',
      '40',
      '3',
      '2',
      '1',
    ])
    // Aligned: each cell starts where its header does.
    expect(workerLines[2]?.indexOf('jobs')).toBe(workerLines[1]?.indexOf('CHANNEL'))
    expect(sections[3]).toBe('Servers\n(none)')
    expect(sections[4]).toBe(['Dead letters', 'CHANNEL  DEAD LETTERS', 'jobs     1'].join('\n'))
    const iso = (ms: number): string => new Date(ms).toISOString()
    expect(sections[5]).toBe(
      [
        'Schedules',
        'ID       CHANNEL  TYPE          WHEN                            CATCH-UP  NEXT RUN                  LAST RUN',
        `nightly  reports  report.build  cron 30 3 * * * (Europe/Paris)  one       ${iso(nightly.nextRunMs + 86_400_000)}  ${iso(nightly.nextRunMs)}`,
        '',
      ].join('\n'),
    )
    expect(result.out).not.toContain('not-printed')
  })

  it('prints a Servers table: one line per web process that reported to the layer, alive or not', async () => {
    const prefix = `c${randomBytes(6).toString('hex')}`
    const layer = redisLayer(prefix)
    const report = {
      host: 'web-1',
      pid: 201,
      connections: 12,
      accepted: 30,
      rejected: 2,
      closedSlow: 1,
      droppedOutbound: 5,
      startedAt: Date.now() - 2 * 3_600_000,
      reportIntervalMs: 5_000,
    }
    await layer.tasks.reportServer({ ...report, id: 'web-1:201:8000' })
    // Reporting every 5 s but last heard of 3 minutes ago: not alive. It never listened: no port.
    const stale = { report: { ...report, id: 'web-1:202:unlistened', pid: 202 }, beatAt: Date.now() - 180_000 }
    await raw().hset(`${prefix}:switchyard:servers`, 'web-1:202:unlistened', JSON.stringify(stale))
    const result = await run(inspectCommand, prefix, [])
    expect(result.code).toBe(0)
    const lines = (result.out.split('\n\n')[3] ?? '').split('\n')
    expect(lines[0]).toBe('Servers')
    expect(lines.slice(1).map((line) => line.split(/\s{2,}/))).toEqual([
      [
        'HOST',
        'PID',
        'PORT',
        'ALIVE',
        'HEARTBEAT',
        'UP',
        'CONNECTIONS',
        'ACCEPTED',
        'REJECTED',
        'CLOSED SLOW',
        'DROPPED OUTBOUND',
      ],
      ['web-1', '201', '8000', 'yes', expect.stringMatching(/^\d+ms ago$/), '2h', '12', '30', '2', '1', '5'],
      ['web-1', '202', '-', 'no', '3m ago', '2h', '12', '30', '2', '1', '5'],
    ])
    // The connections cell, found after UP's: the heartbeat before it ("12ms ago") may contain 12 too.
    expect(lines[2]?.search(/(?<=\s2h\s+)12\b/)).toBe(lines[1]?.indexOf('CONNECTIONS'))
  })

  it('prints the same state as JSON with --json', async () => {
    const prefix = `c${randomBytes(6).toString('hex')}`
    const { a, nightly } = await createState(prefix)
    const result = await run(inspectCommand, prefix, ['--json'])
    expect(result.code).toBe(0)
    const snapshot = JSON.parse(result.out) as LayerSnapshot
    expect(snapshot.channels).toEqual([
      { name: 'emails', backlog: 2, inFlight: 0, delayed: 0, deadLetters: 0 },
      { name: 'jobs', backlog: 1, inFlight: 1, delayed: 0, deadLetters: 1 },
    ])
    expect(snapshot.groups).toHaveLength(1)
    expect(snapshot.groups[0]).toMatchObject({ name: 'chat', members: 4 })
    expect(snapshot.groups[0]?.byProcess).toContainEqual({ process: `specific.${a.clientId}!`, members: 2 })
    expect(snapshot.workers).toEqual([expect.objectContaining({ id: 'web-1:101:jobs', processed: 40, alive: true })])
    const { schedules } = JSON.parse(result.out) as { schedules: Record<string, unknown>[] }
    expect(schedules).toEqual([
      {
        id: 'nightly',
        channel: 'reports',
        type: 'report.build',
        cron: '30 3 * * *',
        timezone: 'Europe/Paris',
        catchUp: 'one',
        nextRunMs: nightly.nextRunMs + 86_400_000,
        lastRunMs: nightly.nextRunMs,
      },
    ])
    expect(result.out).not.toContain('not-printed')
  })

  it('says (none) for an empty prefix, and refuses arguments', async () => {
    const prefix = `c${randomBytes(6).toString('hex')}`
    const result = await run(inspectCommand, prefix, [])
    expect(result.out).toBe(
      'Channels\n(none)\n\nGroups\n(none)\n\nWorkers\n(none)\n\nServers\n(none)\n\nDead letters\n(none)\n\nSchedules\n(none)\n',
    )
    expect((await run(inspectCommand, prefix, ['jobs'])).code).toBe(2)
  })
})

describe('switchyard purge on Redis', () => {
  it('removes dead letters past retention, stale workers and expired memberships, with progress lines', async () => {
    const prefix = `c${randomBytes(6).toString('hex')}`
    const layer = redisLayer(prefix)
    const client = raw()
    // One dead letter on each of five channels; three of them died eight days ago (retention is seven).
    const channels = ['d1', 'd2', 'd3', 'd4', 'd5']
    for (const channel of channels) {
      await layer.send(channel, { type: 'job.run' })
      const [task] = await layer.tasks.claim(channel, 1, 30_000)
      if (task === undefined) throw new Error('nothing claimed')
      await layer.tasks.bury(task, { error: 'Error: broken' })
    }
    for (const channel of ['d1', 'd3', 'd5']) {
      const key = `${prefix}:switchyard:dead:${channel}`
      const [id] = await client.zrange(key, '0', '0')
      await client.zadd(key, 'XX', Date.now() - 8 * DAY_MS, id ?? '')
    }
    await layer.tasks.reportWorker(workerReport({ id: 'gone:1:jobs', renewalMs: 1 }))
    await layer.tasks.reportWorker(workerReport({ id: 'live:2:jobs', renewalMs: 60_000 }))
    await layer.groupAdd('chat', 'fresh')
    await client.zadd(`${prefix}:group:chat`, (Date.now() - 2 * DAY_MS) / 1000, 'stale')
    await new Promise((resolve) => setTimeout(resolve, 20))

    const dry = await run(purgeCommand, prefix, ['--dry-run', '--progress-every', '2'])
    expect(dry.code).toBe(0)
    expect(dry.out).toContain('dead letters: would remove 3 dead letters older than 168h from 5 channels\n')
    expect(dry.out).toContain('groups: would remove 1 expired membership\n')
    expect(await client.zcard(`${prefix}:group:chat`)).toBe(2)
    expect((await layer.inspect()).channels.reduce((sum, channel) => sum + channel.deadLetters, 0)).toBe(5)

    const result = await run(purgeCommand, prefix, ['--progress-every', '2'])
    expect(result).toEqual({
      code: 0,
      err: '',
      out: expect.stringMatching(
        new RegExp(
          [
            '^dead letters: 2/5 \\.\\.\\.',
            'dead letters: 4/5 \\.\\.\\.',
            'dead letters: 5/5 \\.\\.\\.',
            'dead letters: removed 3 dead letters older than 168h from 5 channels',
            'task states: nothing to do \\(they expire on their own after 1h\\)',
            'workers: removed gone:1:jobs \\(last heartbeat \\d+ms ago\\)',
            'workers: removed 1 stale worker of 2',
            'groups: removed 1 expired membership\\n$',
          ].join('\\n'),
        ),
      ) as string,
    })
    const after = await layer.inspect()
    expect(after.channels.filter((channel) => channel.deadLetters > 0).map((channel) => channel.name)).toEqual([
      'd2',
      'd4',
    ])
    expect(after.workers.map((worker) => worker.id)).toEqual(['live:2:jobs'])
    expect(await client.zrange(`${prefix}:group:chat`, '0', '-1')).toEqual(['fresh'])
  })

  it('prints a progress line every N groups on a long run', async () => {
    const prefix = `c${randomBytes(6).toString('hex')}`
    const layer = redisLayer(prefix)
    const client = raw()
    const old = (Date.now() - 2 * DAY_MS) / 1000
    const pipeline = client.pipeline()
    for (let i = 0; i < 250; i++) pipeline.zadd(`${prefix}:group:g${i}`, old, 'stale', Date.now() / 1000, 'fresh')
    await pipeline.exec()
    const result = await run(purgeCommand, prefix, ['--progress-every', '100'])
    expect(result.out).toContain('groups: 100/250 ...\ngroups: 200/250 ...\ngroups: 250/250 ...\n')
    expect(result.out).toContain('groups: removed 250 expired memberships\n')
    const counts = await Promise.all(
      Array.from({ length: 250 }, (_, i) => client.zrange(`${prefix}:group:g${i}`, '0', '-1')),
    )
    expect(counts.every((members) => members.length === 1 && members[0] === 'fresh')).toBe(true)
    expect((await layer.inspect()).groups).toHaveLength(250)
  })
})

describe('switchyard inspect on a layer without a task store', () => {
  it('prints no Schedules section, and no schedules field with --json', async () => {
    const memory = new InMemoryChannelLayer()
    const snapshot = await memory.inspect()
    await memory.close()
    // Only what inspect uses: a custom layer with inspect() and no `tasks`.
    const layer = { inspect: async () => snapshot, close: async () => undefined } as unknown as ChannelLayer
    const inspect = async (args: string[]): Promise<Result> => {
      let out = ''
      let err = ''
      const code = await inspectCommand(
        [...args, '--app', 'app.ts'],
        { out: (text) => (out += text), err: (text) => (err += text) },
        { loadApp: async (path) => ({ path, application: async () => undefined, layer }) },
      )
      return { code, out, err }
    }
    expect(await inspect([])).toEqual({
      code: 0,
      err: '',
      out: 'Channels\n(none)\n\nGroups\n(none)\n\nWorkers\n(none)\n\nServers\n(none)\n\nDead letters\n(none)\n',
    })
    const json = await inspect(['--json'])
    expect(json.code).toBe(0)
    expect(JSON.parse(json.out)).toEqual(JSON.parse(JSON.stringify(snapshot)))
  })
})
