/**
 * docs/topics/browser-client.md: chat.ts served on 127.0.0.1; chat-client.ts run as a page would (a `location` and a
 * `WebSocket` that sends the page's Origin, as a browser does) through a server restart, a refused handshake and
 * close(); the client module the server serves; bot.ts run with node.
 */
import { writeFile } from 'node:fs/promises'
import { pathToFileURL } from 'node:url'

import { afterEach, describe, expect, it } from 'vitest'

import { serve, type Application, type InMemoryChannelLayer, type RunningServer } from 'switchyard-channels'
import { ConnectionClosedError, connect, type Connection } from 'switchyard-channels/client'

import { mustRun } from '../package/consumer-project.js'
import { waitFor } from '../support/wait.js'
import { docProject } from './doc-blocks.js'
import { actLikeAPageAt, leavePage } from './page-shim.js'

const PAGE = 'docs/topics/browser-client.md'

type JoinChat = (room: string, name: string, show: (line: string) => void) => Connection<{ type: string }>

describe(PAGE, () => {
  const servers: RunningServer[] = []

  afterEach(async () => {
    leavePage()
    for (const server of servers.splice(0)) await server.close()
  })

  it('chat.ts and chat-client.ts: typed dispatch, hello before queued messages, a restart waited out, refusals, close()', async () => {
    const project = await docProject('docs/topics/browser-client.md', ['chat.ts', 'chat-client.ts'])
    const { application, layer } = await project.import<{ application: Application; layer: InMemoryChannelLayer }>(
      'chat.ts',
    )
    const { joinChat } = await project.import<{ joinChat: JoinChat }>('chat-client.ts')
    let server = await serve({ application, layer, port: 0 })
    servers.push(server)
    actLikeAPageAt(`${server.url}/chat/`)

    const annSaw: string[] = []
    const ann = joinChat('lobby', 'ann', (line) => annSaw.push(line))
    ann.send({ type: 'chat.message', text: 'hi' }) // queued: not open yet
    await waitFor('ann to see her message', () => annSaw.includes('ann: hi'))
    expect(annSaw).toEqual(['[open]', 'ann joined', 'ann: hi'])

    const bobSaw: string[] = []
    const bob = joinChat('lobby', 'bob', (line) => bobSaw.push(line))
    await waitFor('ann to see bob join', () => annSaw.includes('bob joined'))
    bob.send({ type: 'chat.message', text: 'hello ann' })
    await waitFor('ann to see bob', () => annSaw.includes('bob: hello ann'))

    // The server restarts (1001): both wait it out, reconnect, and say hello again.
    const { port } = server
    await server.close()
    servers.splice(0)
    await waitFor('both to be reconnecting', () => ann.state === 'reconnecting' && bob.state === 'reconnecting')
    server = await serve({ application, layer, port })
    servers.push(server)
    await waitFor('both to be back', () => ann.state === 'open' && bob.state === 'open', { timeoutMs: 10_000 })
    await waitFor('the hellos after the restart', () => annSaw.filter((line) => line === 'ann joined').length === 2)
    expect(annSaw.slice(4)).toEqual(expect.arrayContaining(['[reconnecting]', '[open]']))
    expect(ann.stats()).toMatchObject({ reconnects: 1, malformed: 0, dropped: 0 })

    // No such route: refused (HTTP 404) five times in a row, then given up on for good.
    const nowhere = connect('/ws/nowhere/', { reconnect: { initialDelayMs: 10, maxDelayMs: 20 } })
    await waitFor('the client to give up', () => nowhere.state === 'refused')
    expect(() => {
      nowhere.send({ type: 'chat.message', text: 'anyone?' })
    }).toThrow(ConnectionClosedError)

    ann.close()
    bob.close()
    expect(annSaw.at(-1)).toBe('[closed]')
    expect(() => {
      ann.send({ type: 'chat.message', text: 'bye' })
    }).toThrow(ConnectionClosedError)
  }, 30_000)

  it('chat.ts serves the client as one browser module', async () => {
    const project = await docProject('docs/topics/browser-client.md', ['chat.ts'])
    const { application, layer } = await project.import<{ application: Application; layer: InMemoryChannelLayer }>(
      'chat.ts',
    )
    const server = await serve({ application, layer, port: 0 })
    servers.push(server)
    const response = await fetch(`${server.url}/static/switchyard-client.js`)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    const source = await response.text()
    expect(source.length).toBeLessThan(4.5 * 1024)
    await writeFile(project.path('switchyard-client.js'), source)
    const served = (await import(pathToFileURL(project.path('switchyard-client.js')).href)) as Record<string, unknown>
    expect(typeof served.connect).toBe('function')
    expect(typeof served.shouldReconnect).toBe('function')
  })

  it('bot.ts: connects from Node with ws and an Origin, says hello before its queued message', async () => {
    const project = await docProject('docs/topics/browser-client.md', ['chat.ts', 'bot.ts'])
    const { application, layer } = await project.import<{ application: Application; layer: InMemoryChannelLayer }>(
      'chat.ts',
    )
    const server = await serve({ application, layer, port: 0 })
    servers.push(server)
    const bot = await mustRun(process.execPath, ['--import', 'tsx', 'bot.ts'], project.dir, {
      env: { CHAT_ORIGIN: server.url },
      timeoutMs: 30_000,
    })
    expect(bot.stdout).toBe('bot: beep\n')
  }, 40_000)
})
