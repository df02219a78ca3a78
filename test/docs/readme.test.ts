/**
 * README.md, the front door: the picture names real classes, the quick start's commands are the package's scripts,
 * the install and serve commands are the package's own, and the five-minute chat works: through communicators, and
 * served on 127.0.0.1 with the page's Node client talking to it. The tsconfig.json block is read by
 * ./typecheck.test.ts, and test/package/default-projects.test.ts runs app.ts in projects that install the tarball.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

import { describe, expect, it } from 'vitest'

import * as switchyard from 'switchyard-channels'
import { serve, type Application, type ChannelLayer } from 'switchyard-channels'
import { WebsocketCommunicator } from 'switchyard-channels/testing'

import { spawnProcess } from '../support/spawned.js'
import { docBlock, docProject, repoRoot, shellCommands } from './doc-blocks.js'

const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  name: string
  scripts: Record<string, string>
  dependencies: Record<string, string>
}

describe('README.md', () => {
  it('draws classes the package exports', () => {
    const picture = docBlock('README.md', 'architecture')
    const classes = [...picture.matchAll(/\b([A-Z][A-Za-z]+(?:Router|Consumer))\b/g)].map((match) => match[1]!)
    expect(new Set(classes)).toEqual(
      new Set(['ProtocolTypeRouter', 'URLRouter', 'WebsocketConsumer', 'ChannelNameRouter', 'RetryingConsumer']),
    )
    for (const name of classes) expect(switchyard).toHaveProperty(name)
  })

  it('quick start: `npm install && npm start` runs the showcase, `npm test` everything', () => {
    expect(shellCommands(docBlock('README.md', 'quick-start'))).toEqual(['npm install && npm start', 'npm test'])
    expect(manifest.scripts.start).toContain('examples/showcase/main.ts')
    expect(manifest.scripts.prepare).toBe('npm run build')
    expect(manifest.scripts.test).toMatch(/npm run typecheck && npm run lint && vitest run$/)
  })

  it('names every runtime dependency in Install', () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8')
    const install = readme.slice(readme.indexOf('## Install'), readme.indexOf('\n## ', readme.indexOf('## Install')))
    const named = new Set([...install.matchAll(/`(@?[a-z][\w./-]*)`/g)].map((match) => match[1]!))
    expect(Object.keys(manifest.dependencies).filter((dependency) => !named.has(dependency))).toEqual([])
  })

  it('installs the package by its npm name and serves app.ts with its command', () => {
    expect(shellCommands(docBlock('README.md', 'install'))).toEqual([`npm install ${manifest.name}`])
    expect(shellCommands(docBlock('README.md', 'serve'))).toEqual(['npx switchyard serve --app app.ts'])
  })

  it('the five-minute chat: a room for everyone in it, and the Origin check', async () => {
    const project = await docProject('README.md', ['app.ts'])
    const { application, layer } = await project.import<{ application: Application; layer: ChannelLayer }>('app.ts')
    const headers = { origin: 'http://localhost', host: 'localhost' }
    const join = async (room: string): Promise<WebsocketCommunicator> => {
      const socket = new WebsocketCommunicator(application, `/ws/chat/${room}/`, { layer, headers })
      expect(await socket.connect()).toMatchObject({ connected: true, subprotocol: null })
      return socket
    }
    const [ann, bob, carol] = [await join('lobby'), await join('lobby'), await join('garden')]
    await ann.sendJsonTo({ text: 'hi' })
    expect(await ann.receiveJsonFrom()).toEqual({ type: 'chat.message', text: 'hi' })
    expect(await bob.receiveJsonFrom()).toEqual({ type: 'chat.message', text: 'hi' })
    expect(await carol.receiveNothing()).toBe(true)
    await bob.sendJsonTo({})
    expect(await bob.receiveOutput()).toMatchObject({ type: 'websocket.close', code: 1007 })
    for (const socket of [ann, bob, carol]) await socket.disconnect()
    const foreign = new WebsocketCommunicator(application, '/ws/chat/lobby/', {
      layer,
      headers: { origin: 'http://evil.example', host: 'localhost' },
    })
    expect(await foreign.connect()).toEqual({ connected: false, code: 1000 })
    await layer.close()
  })

  it('the Node client of "Connecting to it" chats with the served app', async () => {
    const app = await docProject('README.md', ['app.ts'])
    const { application, layer } = await app.import<{ application: Application; layer: ChannelLayer }>('app.ts')
    const server = await serve({ application, layer, port: 0 })
    try {
      // The page's port is 8000; the test serves on a free one and points the client there.
      const project = await docProject('README.md', ['client.ts'], (_, text) =>
        text.replaceAll(':8000', `:${server.port}`),
      )
      const client = spawnProcess(process.execPath, ['--import', 'tsx', 'client.ts'], {
        cwd: project.dir,
        env: process.env,
      })
      expect((await client.exited).code).toBe(0)
      expect(client.output()).toEqual({ stdout: '{"type":"chat.message","text":"hi"}\n', stderr: '' })
    } finally {
      await server.close()
      await layer.close()
    }
  }, 20_000)
})
