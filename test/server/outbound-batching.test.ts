import { describe, expect, it } from 'vitest'

import type { Application } from '../../src/application.js'
import { closed, connect, startServer, wsUrl } from './helpers.js'

/** After accept and the client's first frame, sends `count` frames without yielding (one tick), then a close. */
function burst(count: number, closeCode?: number): Application {
  return async (_scope, receive, send) => {
    await receive()
    await send({ type: 'websocket.accept' })
    await receive() // the client listens by then
    const sends: Promise<void>[] = []
    for (let i = 0; i < count; i++) {
      sends.push(
        send(
          i % 2 === 0
            ? { type: 'websocket.send', text: `frame ${i}` }
            : { type: 'websocket.send', bytes: new Uint8Array([i % 256]) },
        ),
      )
    }
    if (closeCode !== undefined) sends.push(send({ type: 'websocket.close', code: closeCode }))
    await Promise.all(sends)
    await receive()
  }
}

/** Collects what the client receives, then tells the server to start. */
function collect(socket: import('ws').WebSocket): string[] {
  const got: string[] = []
  socket.on('message', (data: Buffer, isBinary) => got.push(isBinary ? `bytes ${data[0]}` : data.toString()))
  socket.send('go')
  return got
}

const expected = (count: number): string[] =>
  Array.from({ length: count }, (_, i) => (i % 2 === 0 ? `frame ${i}` : `bytes ${i % 256}`))

describe('frames sent in one tick (written together at its end)', () => {
  it('arrive complete and in order, text and binary alike', async () => {
    const server = await startServer(burst(500))
    const { socket } = await connect(wsUrl(server))
    const got = collect(socket)
    for (let i = 0; i < 200 && got.length < 500; i++) await new Promise((resolve) => setTimeout(resolve, 5))
    expect(got).toEqual(expected(500))
  })

  it('come before a close sent in the same tick', async () => {
    const server = await startServer(burst(300, 4001))
    const { socket } = await connect(wsUrl(server))
    const got = collect(socket)
    const closing = closed(socket)
    expect((await closing).code).toBe(4001)
    expect(got).toEqual(expected(300))
  })

  it('still count toward maxOutboundBytes: a burst past it closes the client with 1013', async () => {
    const server = await startServer(burst(100), { maxOutboundBytes: 300 })
    const { socket } = await connect(wsUrl(server))
    const got = collect(socket)
    expect((await closed(socket)).code).toBe(1013)
    // Whatever was written before the cap arrived in order; nothing past it.
    expect(got).toEqual(expected(got.length))
    expect(got.length).toBeLessThan(100)
    expect(server.app.switchyard.stats().closedSlow).toBe(1)
  })

  it('repeat a text byte for byte, whatever its length takes to frame (7, 16 or 64 bits)', async () => {
    // The same text sent again is framed once and written as it is: 'é' makes its UTF-8 length differ from its own.
    const texts = [5, 200, 70_000].map((length) => 'é'.repeat(length))
    const app: Application = async (_scope, receive, send) => {
      await receive()
      await send({ type: 'websocket.accept' })
      await receive()
      for (const text of texts) for (let i = 0; i < 3; i++) await send({ type: 'websocket.send', text })
      await receive()
    }
    const server = await startServer(app)
    const { socket } = await connect(wsUrl(server))
    const got = collect(socket)
    for (let i = 0; i < 200 && got.length < 9; i++) await new Promise((resolve) => setTimeout(resolve, 5))
    expect(got).toEqual(texts.flatMap((text) => [text, text, text]))
  })
})
