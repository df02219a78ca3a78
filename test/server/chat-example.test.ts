import { describe, expect, it } from 'vitest'
import type WebSocket from 'ws'

import { InMemoryChannelLayer } from '../../src/index.js'
import { application } from '../../examples/chat/app.js'
import { connect, nextMessage, refusal, startServer, waitFor } from './helpers.js'

const groupsOf = (layer: InMemoryChannelLayer): Map<string, unknown> =>
  (layer as unknown as { groups: Map<string, unknown> }).groups

async function join(base: string, room: string): Promise<WebSocket> {
  const url = `${base.replace(/^http/, 'ws')}/ws/chat/${room}/`
  return (await connect(url, undefined, { origin: base })).socket
}

describe('examples/chat', () => {
  it('serves the page', async () => {
    const server = await startServer(application, { layer: new InMemoryChannelLayer() })
    const response = await fetch(`${server.url}/`)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toContain('text/html')
    expect(await response.text()).toContain('/ws/chat/')
  })

  it('lets two clients in one room see each other, and keeps rooms apart', async () => {
    const layer = new InMemoryChannelLayer()
    const server = await startServer(application, { layer })
    const alice = await join(server.url, 'lobby')
    const bob = await join(server.url, 'lobby')
    const carol = await join(server.url, 'kitchen')
    const carolGot: unknown[] = []
    carol.on('message', (data: Buffer) => carolGot.push(JSON.parse(data.toString())))
    const bobHears = nextMessage(bob)
    const aliceHears = nextMessage(alice)
    alice.send(JSON.stringify({ name: 'alice', text: 'hello bob' }))
    for (const heard of [await bobHears, await aliceHears]) {
      expect(JSON.parse(heard.data.toString())).toMatchObject({ kind: 'message', name: 'alice', text: 'hello bob' })
    }
    expect(carolGot).toEqual([])
    for (const socket of [alice, bob, carol]) socket.close()
    await waitFor(() => groupsOf(layer).size === 0)
  })

  it('refuses bad room names and other origins', async () => {
    const server = await startServer(application, { layer: new InMemoryChannelLayer() })
    const ws = server.url.replace(/^http/, 'ws')
    const origin = { origin: server.url }
    expect((await refusal(`${ws}/ws/chat/${'x'.repeat(41)}/`, undefined, origin)).status).toBe(403)
    expect((await refusal(`${ws}/ws/nothing-here/`, undefined, origin)).status).toBe(404)
    expect((await refusal(`${ws}/ws/chat/lobby/`, undefined, { origin: 'http://evil.example' })).status).toBe(403)
    expect((await refusal(`${ws}/ws/chat/lobby/`)).status).toBe(403)
  })
})
