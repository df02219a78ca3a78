/**
 * docs/tutorial/part-3.md on the tests' Redis: two "servers" (the app imported twice, each with its own Redis
 * layer, as two processes would have) share a room, and `npx switchyard worker --app tasks.ts mentions` (run from
 * the sources) notifies a mention and tells the room.
 */
import { randomBytes } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'

import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest'

import { InMemoryChannelLayer, type Application, type ChannelLayer } from 'switchyard-channels'
import { RedisChannelLayer } from 'switchyard-channels/redis'
import { WebsocketCommunicator } from 'switchyard-channels/testing'

import { spawnProcess } from '../support/spawned.js'
import { docBlock, docProject, repoRoot, shellCommands, type DocProject } from './doc-blocks.js'

const samePage = { host: '127.0.0.1:8000', origin: 'http://127.0.0.1:8000' }
const redisUrl = inject('redisUrl')

/** Part 3's files, and the files of part 1 that it keeps. */
async function part3Project(): Promise<DocProject> {
  const project = await docProject('docs/tutorial/part-3.md', ['layer.ts', 'chat.ts', 'tasks.ts'])
  await writeFile(project.path('app.ts'), docBlock('docs/tutorial/part-1.md', 'app.ts'))
  await writeFile(project.path('pages.ts'), docBlock('docs/tutorial/part-1.md', 'pages.ts'))
  return project
}

interface App {
  application: Application
  layer: ChannelLayer
}

describe('docs/tutorial/part-3.md', () => {
  const savedUrl = process.env.REDIS_URL
  const layers: ChannelLayer[] = []

  beforeEach(() => {
    process.env.REDIS_URL = redisUrl
  })

  afterEach(async () => {
    if (savedUrl === undefined) delete process.env.REDIS_URL
    else process.env.REDIS_URL = savedUrl
    for (const layer of layers.splice(0)) await layer.close()
  })

  it('shows the commands the test runs', () => {
    expect(shellCommands(docBlock('docs/tutorial/part-3.md', 'two-servers'))).toEqual([
      'export REDIS_URL=redis://127.0.0.1:6379',
      'npx switchyard serve --app app.ts --port 8000',
      'npx switchyard serve --app app.ts --port 8001',
    ])
    expect(shellCommands(docBlock('docs/tutorial/part-3.md', 'worker'))).toEqual([
      'npx switchyard worker --app tasks.ts mentions',
    ])
  })

  it('uses Redis when REDIS_URL is set, and memory when not', async () => {
    const onRedis = await (await part3Project()).import<App>('app.ts')
    layers.push(onRedis.layer)
    expect(onRedis.layer).toBeInstanceOf(RedisChannelLayer)
    delete process.env.REDIS_URL
    const inMemory = await (await part3Project()).import<App>('app.ts')
    layers.push(inMemory.layer)
    expect(inMemory.layer).toBeInstanceOf(InMemoryChannelLayer)
  })

  it('two servers on one Redis share a room; the worker notifies a mention and tells the room', async () => {
    const first = await part3Project()
    const one = await first.import<App>('app.ts')
    const two = await (await part3Project()).import<App>('app.ts')
    layers.push(one.layer, two.layer)
    const room = `tutorial-${randomBytes(4).toString('hex')}`
    const join = async ({ application, layer }: App): Promise<WebsocketCommunicator> => {
      const socket = new WebsocketCommunicator(application, `/ws/chat/${room}/`, { layer, headers: samePage })
      expect(await socket.connect()).toMatchObject({ connected: true })
      return socket
    }
    const ann = await join(one)
    const bob = await join(two)
    await ann.sendJsonTo({ message: 'hello' })
    expect(await ann.receiveJsonFrom({ timeoutMs: 3000 })).toEqual({ message: 'hello' })
    expect(await bob.receiveJsonFrom({ timeoutMs: 3000 })).toEqual({ message: 'hello' })

    const [command] = shellCommands(docBlock('docs/tutorial/part-3.md', 'worker'))
    const args = command!
      .split(' ')
      .slice(2)
      .map((arg) => (arg === 'tasks.ts' ? first.path('tasks.ts') : arg))
    const { PORT: _port, ...env } = process.env
    const worker = spawnProcess(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      cwd: repoRoot,
      env: { ...env, REDIS_URL: redisUrl },
    })
    try {
      await worker.waitForOutput(/switchyard worker serving channel mentions/)
      await bob.sendJsonTo({ message: 'hi @ada and @bo' })
      for (const socket of [ann, bob]) {
        const received = [
          await socket.receiveJsonFrom({ timeoutMs: 5000 }),
          await socket.receiveJsonFrom({ timeoutMs: 5000 }),
          await socket.receiveJsonFrom({ timeoutMs: 5000 }),
        ]
        expect(received[0]).toEqual({ message: 'hi @ada and @bo' })
        expect(received.slice(1)).toEqual(
          expect.arrayContaining([{ message: '(@ada was notified)' }, { message: '(@bo was notified)' }]),
        )
      }
      const log = await readFile(first.path('notifications.log'), 'utf8')
      expect(log.split('\n').sort()).toEqual(['', '@ada: hi @ada and @bo', '@bo: hi @ada and @bo'])
      worker.child.kill('SIGTERM')
      expect((await worker.exited).code).toBe(0)
    } finally {
      worker.kill()
    }
    await ann.disconnect()
    await bob.disconnect()
  }, 40_000)
})
