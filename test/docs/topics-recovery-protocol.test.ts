/**
 * docs/topics/recovery-protocol.md: room.ts served on 127.0.0.1 and page.ts run as a page would (a `location` and
 * a `WebSocket` that sends the page's Origin), through two server restarts while the layer stays up: the first short
 * (the page recovers exactly what it missed), the second longer than the history (the page reloads). The URL the
 * client reconnects with has the form the `reconnect-url` block shows.
 */
import { afterEach, describe, expect, it } from 'vitest'

import { serve, type Application, type InMemoryChannelLayer, type RunningServer } from 'switchyard-channels'
import type { Connection } from 'switchyard-channels/client'

import { waitFor } from '../support/wait.js'
import { docBlock, docProject } from './doc-blocks.js'
import { actLikeAPageAt, leavePage } from './page-shim.js'

const PAGE = 'docs/topics/recovery-protocol.md'

type OpenRoom = (room: string, show: (line: string) => void, reload: () => void) => Connection<{ type: string }>

describe(PAGE, () => {
  const servers: RunningServer[] = []
  afterEach(async () => {
    leavePage()
    for (const server of servers.splice(0)) await server.close()
  })

  it('room.ts and page.ts: what was missed during a restart arrives in order; after too long, the page reloads', async () => {
    const project = await docProject('docs/topics/recovery-protocol.md', ['room.ts', 'page.ts'])
    const { application, layer } = await project.import<{ application: Application; layer: InMemoryChannelLayer }>(
      'room.ts',
    )
    const { openRoom } = await project.import<{ openRoom: OpenRoom }>('page.ts')
    let server = await serve({ application, layer, port: 0 })
    servers.push(server)
    const urls: string[] = []
    actLikeAPageAt(`${server.url}/room/`, urls)

    const shown: string[] = []
    let reloads = 0
    const conn = openRoom(
      'lobby',
      (line) => shown.push(line),
      () => reloads++,
    )
    await waitFor('open', () => conn.state === 'open')
    conn.send({ text: 'before' })
    await waitFor('the first line', () => shown.length === 1)

    const restart = async (whileDown: () => Promise<void>): Promise<void> => {
      const { port } = server
      await server.close()
      servers.splice(0)
      await waitFor('reconnecting', () => conn.state === 'reconnecting')
      await whileDown()
      server = await serve({ application, layer, port })
      servers.push(server)
      await waitFor('open again', () => conn.state === 'open', { timeoutMs: 10_000 })
    }
    const send = async (count: number, from: number): Promise<void> => {
      for (let i = from; i < from + count; i++)
        await layer.groupSend('room.lobby', { type: 'room.line', text: `m${i}` })
    }

    await restart(() => send(3, 0))
    await waitFor('the missed lines', () => shown.length === 4)
    expect(shown).toEqual(['before', 'm0', 'm1', 'm2'])
    expect(reloads).toBe(0)
    const handedBack = new URL(urls.at(-1) ?? '').searchParams.getAll('__position__')
    expect(handedBack).toHaveLength(1)
    // Offset 1 is the page's own presence.join, 2 the line it saw last.
    expect(handedBack[0]).toMatch(/^room\.lobby:2:[^:]+$/)

    // The reconnect URL has the form the page shows.
    const block = docBlock('docs/topics/recovery-protocol.md', 'reconnect-url').trim()
    expect(new URL(block).searchParams.getAll('__position__')).toEqual(['room.lobby:42:k3x9'])
    const [actual, inDocs] = [new URL(urls.at(-1) ?? ''), new URL(block)]
    expect(actual.pathname).toBe(inDocs.pathname)
    expect([...actual.searchParams.keys()]).toEqual([...inDocs.searchParams.keys()])
    expect(actual.search).toMatch(/^\?__position__=room\.lobby%3A2%3A/)
    expect(inDocs.search).toMatch(/^\?__position__=room\.lobby%3A42%3A/)

    await restart(() => send(150, 3)) // the history keeps 100
    await waitFor('the reload', () => reloads === 1)
    conn.send({ text: 'after' })
    await waitFor('the live line', () => shown.at(-1) === 'after')
    expect(shown).toEqual(['before', 'm0', 'm1', 'm2', 'after'])
    conn.close()
  })
})
