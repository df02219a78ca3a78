/**
 * docs/topics/background-tasks.md: the worked example's commands run verbatim with the real `npx switchyard` on
 * Redis (a retry, a dead letter listed, replayed and purged), send.ts and status.ts run with node, worker.ts stopped
 * by SIGTERM, the at-most-once thumbnails consumer and the albums chord under `runWorker`.
 */
import { describe, expect, inject, it } from 'vitest'

import { runWorker, type Application, type InMemoryChannelLayer } from 'switchyard-channels'
import { RedisChannelLayer } from 'switchyard-channels/redis'

import { envWithoutNpmConfig, mustRun } from '../package/consumer-project.js'
import { isAlive, spawnProcess, terminateLauncher, type Spawned } from '../support/spawned.js'
import { waitFor } from '../support/wait.js'
import { docBlock, docProject, shellCommands } from './doc-blocks.js'

const PAGE = 'docs/topics/background-tasks.md'

/**
 * The shared test Redis, database 9: tasks.ts's layer uses the default prefix `asgi`, which no other test uses
 * there; the test flushes that prefix when done.
 */
function redisUrl(): string {
  const url = new URL(inject('redisUrl'))
  url.pathname = '/9'
  return url.href
}

/** The JSON log lines a process wrote to stderr. */
function logLines(spawned: Spawned): { msg: string; attempt?: number; willRetry?: boolean }[] {
  return spawned
    .output()
    .stderr.split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { msg: string; attempt?: number })
}

const count = (text: string, pattern: RegExp): number => [...text.matchAll(new RegExp(pattern, 'g'))].length

describe(PAGE, () => {
  it('runs the worked example with npx on Redis: a retry, a dead letter listed, replayed, purged; send.ts and status.ts', async () => {
    const url = redisUrl()
    const env = { REDIS_URL: url, SWITCHYARD_LOG_LEVEL: 'info' }
    const project = await docProject('docs/topics/background-tasks.md', ['tasks.ts', 'send.ts', 'status.ts'])
    const [exportLine, workerCommand, send42, send7, list, replay, purge, ...rest] = shellCommands(
      docBlock('docs/topics/background-tasks.md', 'worked-example'),
    )
    expect(exportLine).toBe('export REDIS_URL=redis://127.0.0.1:6379')
    expect(workerCommand).toBe('npx switchyard worker --app tasks.ts emails')
    expect(rest).toEqual([])
    const shell = async (command: string): Promise<string> =>
      (await mustRun('sh', ['-c', command], project.dir, { env })).stdout

    const worker = spawnProcess('npx', workerCommand!.split(' ').slice(1), {
      cwd: project.dir,
      env: envWithoutNpmConfig(env),
    })
    const inspector = new RedisChannelLayer({ hosts: [url] })
    let workerPid: number | undefined
    try {
      await worker.waitForOutput(/switchyard worker serving channel emails/, 60_000)
      workerPid = Number((await worker.waitForOutput(/"pid":(\d+)/))[1])

      expect(await shell(send42!)).toBe('switchyard send: email.send sent to emails\n')
      await shell(send7!)
      await worker.waitForOutput(/"msg":"email sent"/)
      await worker.waitForOutput(/dead after attempt 1: NonRetryableError: no user 7/)
      const sent = logLines(worker).filter((line) => line.msg === 'email sent')
      expect(sent.map((line) => line.attempt)).toEqual([2])
      expect(logLines(worker).filter((line) => line.msg === 'task attempt failed; retrying')).toHaveLength(1)
      expect(logLines(worker).filter((line) => line.msg === 'task failed; dead-lettered')).toHaveLength(1)

      const listed = await shell(list!)
      expect(listed).toMatch(/no user 7/)
      expect(listed).not.toMatch(/ada@example\.com/)
      expect(await shell(replay!)).toBe('Replayed 1 dead letter on emails\n')
      await waitFor(
        'the replayed task to die again',
        () => count(worker.output().stderr, /dead after attempt 1: NonRetryableError: no user 7/) === 2,
        { timeoutMs: 10_000 },
      )
      // Every dead letter is younger than 7 days: none purged.
      expect(await shell(purge!)).toBe('Purged 0 dead letters from emails\n')
      expect(await inspector.tasks.listDeadLetters('emails')).toHaveLength(1)

      // send.ts: the welcome task runs (fails once, then sent), the nudge waits a day.
      await mustRun(process.execPath, ['--import', 'tsx', 'send.ts'], project.dir, { env })
      await waitFor('the welcome task to be sent', () => count(worker.output().stderr, /"msg":"email sent"/) === 2, {
        timeoutMs: 10_000,
      })
      const status = await mustRun(process.execPath, ['--import', 'tsx', 'status.ts'], project.dir, { env })
      expect(status.stdout).toBe('succeeded 2 Error: mail server busy\n')
      const emails = (await inspector.inspect()).channels.find((channel) => channel.name === 'emails')
      expect(emails).toMatchObject({ backlog: 0, inFlight: 0, delayed: 1, deadLetters: 1 })

      await terminateLauncher(worker, workerPid)
      expect(worker.output().stderr).toMatch(/switchyard worker: SIGTERM, finishing running tasks/)
    } finally {
      worker.kill()
      // Killing npx leaves the command it started running: a worker left behind would take the next test's tasks.
      if (workerPid !== undefined && isAlive(workerPid)) process.kill(workerPid, 'SIGKILL')
      await inspector.flush()
      await inspector.close()
    }
  }, 120_000)

  it('worker.ts: runWorker serves the channel until SIGTERM, then exits 0', async () => {
    const url = redisUrl()
    const env = { REDIS_URL: url, SWITCHYARD_LOG_LEVEL: 'info' }
    const project = await docProject('docs/topics/background-tasks.md', ['tasks.ts', 'worker.ts'])
    const worker = spawnProcess(process.execPath, ['--import', 'tsx', 'worker.ts'], {
      cwd: project.dir,
      env: envWithoutNpmConfig(env),
    })
    const sender = new RedisChannelLayer({ hosts: [url] })
    try {
      await worker.waitForOutput(/"msg":"worker serving channel"/, 30_000)
      await sender.send('emails', { type: 'email.send', userId: 42, template: 'welcome', idempotencyKey: 'w-42' })
      await worker.waitForOutput(/"msg":"email sent"/)
      // The handler logs before it returns: the task is settled as succeeded just after.
      await waitFor(
        'the task to succeed',
        async () => (await sender.tasks.getTaskState('w-42'))?.status === 'succeeded',
      )
      worker.child.kill('SIGTERM')
      expect(await worker.exited).toEqual({ code: 0, signal: null })
      expect(logLines(worker).map((line) => line.msg)).toContain('worker stopped')
    } finally {
      worker.kill()
      await sender.flush()
      await sender.close()
    }
  }, 60_000)

  it('thumbnails.ts: at most once; a handler that throws is logged and counted, the consumer goes on', async () => {
    const project = await docProject('docs/topics/background-tasks.md', ['thumbnails.ts'])
    const { application, layer, made } = await project.import<{
      application: Application
      layer: InMemoryChannelLayer
      made: number[]
    }>('thumbnails.ts')
    const worker = runWorker({ application, layer, channels: ['thumbnails'] })
    await layer.send('thumbnails', { type: 'thumbnail.make', imageId: 1 })
    await layer.send('thumbnails', { type: 'thumbnail.make', imageId: -1 })
    await layer.send('thumbnails', { type: 'image.unknown', imageId: 2 })
    await layer.send('thumbnails', { type: 'switchyard.shutdown' }) // only the worker may stop it
    await layer.send('thumbnails', { type: 'thumbnail.make', imageId: 3 })
    await waitFor('thumbnails 1 and 3', () => made.length === 2)
    expect(made).toEqual([1, 3])
    expect(layer.stats().received).toBe(5)
    await worker.stop()
    await worker.done
    await layer.close()
  })

  it('albums.ts: a chord resizes three sizes in parallel and publishes once; a second call with its id is a no-op', async () => {
    const project = await docProject('docs/topics/background-tasks.md', ['albums.ts'])
    const { application, layer, published, publishAlbum } = await project.import<{
      application: Application
      layer: InMemoryChannelLayer
      published: number[]
      publishAlbum: (albumId: number, imageId: number) => Promise<string>
    }>('albums.ts')
    const worker = runWorker({ application, layer, channels: ['images'] })
    const id = await publishAlbum(7, 70)
    expect(id).toBe('album-7')
    await waitFor('the album to be published', async () => (await layer.tasks.getTaskState(id))?.status === 'succeeded')
    expect(await publishAlbum(7, 70)).toBe('album-7')
    const flow = await layer.tasks.getFlowState(id)
    expect(flow?.steps.map((step) => [step.taskId, step.status])).toEqual([
      ['album-7.0', 'succeeded'],
      ['album-7.1', 'succeeded'],
      ['album-7.2', 'succeeded'],
    ])
    expect(flow?.then).toMatchObject({ taskId: 'album-7.then', status: 'succeeded' })
    expect(published).toEqual([7])
    await worker.stop()
    await worker.done
    await layer.close()
  })
})
