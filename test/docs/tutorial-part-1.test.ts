/**
 * docs/tutorial/index.md and part-1.md: the project the introduction makes, the pages and the echoing consumer,
 * and `npx switchyard serve --app app.ts` serving them (run from the sources, as the other CLI tests do).
 */
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Script } from 'node:vm'

import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'

import type { Application } from 'switchyard-channels'
import { HttpCommunicator, WebsocketCommunicator } from 'switchyard-channels/testing'

import { spawnProcess } from '../support/spawned.js'
import { docBlock, docProject, repoRoot, shellCommands } from './doc-blocks.js'

const samePage = { host: '127.0.0.1:8000', origin: 'http://127.0.0.1:8000' }

/** The inline scripts of an HTML page, each compiled (not run) so that a syntax error fails the test. */
function checkScripts(html: string): number {
  const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((match) => match[1]!)
  for (const script of scripts) new Script(script)
  return scripts.length
}

describe('docs/tutorial/index.md', () => {
  it('makes an ES module project, then installs the package by its npm name', async () => {
    const commands = shellCommands(docBlock('docs/tutorial/index.md', 'new-project'))
    const manifest = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { name: string }
    expect(commands.at(-1)).toBe(`npm install ${manifest.name}`)
    const dir = await mkdtemp(join(tmpdir(), 'switchyard-tutorial-'))
    try {
      const { REDIS_URL: _url, ...env } = process.env
      const setup = commands.slice(0, -1).join('\n')
      const child = spawn('sh', ['-ec', setup], { cwd: dir, env, stdio: 'ignore' })
      expect(await new Promise((resolve) => child.once('exit', resolve))).toBe(0)
      const made = JSON.parse(await readFile(join(dir, 'mysite', 'package.json'), 'utf8')) as { type?: string }
      expect(made.type).toBe('module')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }, 30_000)
})

describe('docs/tutorial/part-1.md', () => {
  it('serves the two pages, with scripts that parse, and 404 for a room name that is not a slug', async () => {
    const project = await docProject('docs/tutorial/part-1.md', [
      'app.ts',
      'pages.ts',
      'chat.ts',
      'layer.ts',
      'index.html',
      'room.html',
    ])
    const { application } = await project.import<{ application: Application }>('app.ts')
    const index = await new HttpCommunicator(application, 'GET', '/').getResponse()
    expect(index.status).toBe(200)
    expect(index.headers).toContainEqual(['content-type', 'text/html; charset=utf-8'])
    expect(index.text()).toContain("location.pathname = '/chat/'")
    expect(checkScripts(index.text())).toBe(1)
    const room = await new HttpCommunicator(application, 'GET', '/chat/lobby/').getResponse()
    expect(room.status).toBe(200)
    expect(room.text()).toContain("'/ws/chat/' + room + '/'")
    expect(checkScripts(room.text())).toBe(1)
    await expect(new HttpCommunicator(application, 'GET', '/chat/a%20b/').getResponse()).rejects.toMatchObject({
      code: 'SWY_ROUTE_NOT_FOUND',
    })
  })

  it('echoes to the sending socket only, and refuses a page of another site', async () => {
    const project = await docProject('docs/tutorial/part-1.md', [
      'app.ts',
      'pages.ts',
      'chat.ts',
      'layer.ts',
      'index.html',
      'room.html',
    ])
    const { application, layer } = await project.import<{ application: Application; layer: unknown }>('app.ts')
    expect(layer).toBeDefined()
    const ann = new WebsocketCommunicator(application, '/ws/chat/lobby/', { headers: samePage })
    const bob = new WebsocketCommunicator(application, '/ws/chat/lobby/', { headers: samePage })
    expect(await ann.connect()).toMatchObject({ connected: true })
    expect(await bob.connect()).toMatchObject({ connected: true })
    await ann.sendJsonTo({ message: 'hello' })
    expect(await ann.receiveJsonFrom()).toEqual({ message: 'hello' })
    expect(await bob.receiveNothing()).toBe(true)
    await ann.disconnect()
    await bob.disconnect()
    const foreign = new WebsocketCommunicator(application, '/ws/chat/lobby/', {
      headers: { host: '127.0.0.1:8000', origin: 'https://evil.example' },
    })
    expect(await foreign.connect()).toMatchObject({ connected: false })
  })

  it('runs with `npx switchyard serve --app app.ts`: the room page, an echo, and 1001 on Ctrl-C', async () => {
    const project = await docProject('docs/tutorial/part-1.md', [
      'app.ts',
      'pages.ts',
      'chat.ts',
      'layer.ts',
      'index.html',
      'room.html',
    ])
    const [command] = shellCommands(docBlock('docs/tutorial/part-1.md', 'serve'))
    expect(command).toBe('npx switchyard serve --app app.ts')
    const { REDIS_URL: _url, PORT: _port, ...env } = process.env
    const args = ['serve', '--app', project.path('app.ts'), '--port', '0']
    const server = spawnProcess(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      cwd: repoRoot,
      env,
    })
    try {
      const [, url] = await server.waitForOutput(/switchyard serving \S+ at (http:\/\/127\.0\.0\.1:\d+)/)
      const page = await fetch(`${url!}/chat/lobby/`)
      expect(page.status).toBe(200)
      const socket = new WebSocket(`${url!.replace('http', 'ws')}/ws/chat/lobby/`, { origin: url! })
      await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject))
      const echoed = new Promise<string>((resolve) => {
        socket.once('message', (data: Buffer) => {
          resolve(String(data))
        })
      })
      socket.send(JSON.stringify({ message: 'hi' }))
      expect(JSON.parse(await echoed)).toEqual({ message: 'hi' })
      const closed = new Promise<number>((resolve) => socket.once('close', resolve))
      server.child.kill('SIGINT')
      expect(await closed).toBe(1001)
      expect((await server.exited).code).toBe(0)
    } finally {
      server.kill()
    }
  }, 30_000)
})
