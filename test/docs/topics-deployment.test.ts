/**
 * docs/topics/deployment.md on the tests' Redis: the page's two commands (run from the sources, on a free port) serve
 * a socket whose request a worker in the other process answers, and both stop gracefully on SIGTERM; the page's
 * main.ts, run with `node --import tsx`, does the same with its own signal handlers.
 */
import { inject, describe, expect, it } from 'vitest'
import WebSocket from 'ws'

import { spawnProcess, type Spawned } from '../support/spawned.js'
import { docBlock, docProject, repoRoot, shellCommands } from './doc-blocks.js'

const redisUrl = inject('redisUrl')
const SERVING = /(?:switchyard serving \S+ at|serving at) http:\/\/[\d.]+:(\d+)/

/** The environment of a process the page starts: REDIS_URL is the tests' Redis; no PORT or prefix of ours. */
function pageEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const { PORT: _port, SWITCHYARD_PREFIX: _prefix, NODE_OPTIONS: _options, ...env } = process.env
  return { ...env, REDIS_URL: redisUrl, ...extra }
}

async function openSocket(port: string): Promise<WebSocket> {
  const origin = `http://127.0.0.1:${port}`
  const socket = new WebSocket(`ws://127.0.0.1:${port}/ws/reports/`, { origin })
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject))
  return socket
}

function nextMessage(socket: WebSocket): Promise<unknown> {
  return new Promise((resolve) => {
    socket.once('message', (data: Buffer) => {
      resolve(JSON.parse(String(data)))
    })
  })
}

async function stop(process: Spawned): Promise<number | null> {
  process.child.kill('SIGTERM')
  return (await process.exited).code
}

describe('docs/topics/deployment.md', () => {
  it('serve and worker on one Redis: a worker answers a socket on the web process; SIGTERM stops both cleanly', async () => {
    const project = await docProject('docs/topics/deployment.md', ['app.ts'])
    const commands = shellCommands(docBlock('docs/topics/deployment.md', 'processes'))
    expect(commands).toEqual([
      'export REDIS_URL=redis://127.0.0.1:6379/0',
      'npx switchyard serve --app app.ts --host 0.0.0.0 --port 8000',
      'npx switchyard worker --app app.ts reports',
    ])
    // Run as the page says, from the sources: the app's path for app.ts, and a free port for 8000.
    const start = (command: string): Spawned => {
      const args = command
        .split(' ')
        .slice(2)
        .map((arg) => (arg === 'app.ts' ? project.path('app.ts') : arg === '8000' ? '0' : arg))
      return spawnProcess(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
        cwd: repoRoot,
        env: pageEnv({ SWITCHYARD_LOG_LEVEL: 'info' }),
      })
    }
    const web = start(commands[1]!)
    const worker = start(commands[2]!)
    try {
      const [, port] = await web.waitForOutput(SERVING)
      expect(web.output().stderr).toMatch(/channel layer: Redis at redis:\/\/127\.0\.0\.1:\d+.*\(from REDIS_URL\)/)
      await worker.waitForOutput(/switchyard worker serving channel reports/)
      const socket = await openSocket(port!)
      const answer = nextMessage(socket)
      socket.send(JSON.stringify({ id: 7 }))
      expect(await answer).toEqual({ type: 'report.ready', id: 7 })

      const closed = new Promise<number>((resolve) => socket.once('close', resolve))
      expect(await stop(web)).toBe(0)
      expect(await closed).toBe(1001)
      expect(await stop(worker)).toBe(0)
      expect(worker.output().stderr).toMatch(/switchyard worker: SIGTERM, finishing running tasks/)
    } finally {
      web.kill()
      worker.kill()
    }
  }, 60_000)

  it('main.ts serves with serve() and closes every socket with 1001 on SIGTERM, then exits by itself', async () => {
    const project = await docProject('docs/topics/deployment.md', ['app.ts', 'main.ts'])
    const main = spawnProcess(process.execPath, ['--import', 'tsx', 'main.ts'], {
      cwd: project.dir,
      env: pageEnv({ PORT: '0' }),
    })
    try {
      const [, port] = await main.waitForOutput(SERVING)
      expect(main.output().stdout).toMatch(/^serving at http:\/\/0\.0\.0\.0:\d+$/m)
      const socket = await openSocket(port!)
      const closed = new Promise<number>((resolve) => socket.once('close', resolve))
      expect(await stop(main)).toBe(0)
      expect(await closed).toBe(1001)
    } finally {
      main.kill()
    }
  }, 30_000)
})
