import { describe, expect, it } from 'vitest'

import type { InputEvent } from '../../src/application.js'
import { ApplicationCancelledError } from '../../src/errors.js'
import {
  captureLogger,
  closed,
  connect,
  deferred,
  nextMessage,
  startServer,
  waitFor,
  websocketApp,
  wsUrl,
  anyString,
} from './helpers.js'

describe('WebSocket session after accept', () => {
  it('turns text and binary frames into websocket.receive and sends text and bytes back', async () => {
    const events: InputEvent[] = []
    const server = await startServer(
      websocketApp(async (event, send) => {
        if (event.type !== 'websocket.receive') return
        if (event.text != null) await send({ type: 'websocket.send', text: `echo:${event.text}` })
        else if (event.bytes != null) await send({ type: 'websocket.send', bytes: event.bytes.slice().reverse() })
      }, events),
    )
    const { socket } = await connect(wsUrl(server))
    socket.send('héllo')
    const textReply = await nextMessage(socket)
    expect(textReply).toEqual({ data: Buffer.from('echo:héllo'), isBinary: false })
    socket.send(Uint8Array.of(1, 2, 3))
    const bytesReply = await nextMessage(socket)
    expect(bytesReply.isBinary).toBe(true)
    expect([...bytesReply.data]).toEqual([3, 2, 1])
    expect(events[1]).toEqual({ type: 'websocket.receive', text: 'héllo' })
    const bytesEvent = events[2] as { bytes: Uint8Array }
    expect(Object.getPrototypeOf(bytesEvent.bytes)).toBe(Uint8Array.prototype)
    expect([...bytesEvent.bytes]).toEqual([1, 2, 3])
  })

  it('passes the application close code and reason to the client', async () => {
    const server = await startServer(
      websocketApp(async (_event, send) => {
        await send({ type: 'websocket.close', code: 4007, reason: 'test reason' })
      }),
    )
    const { socket } = await connect(wsUrl(server))
    const closing = closed(socket)
    socket.send('close me')
    expect(await closing).toEqual({ code: 4007, reason: 'test reason' })
  })

  it('closes with 1000 when websocket.close has no code', async () => {
    const server = await startServer(
      websocketApp(async (_event, send) => {
        await send({ type: 'websocket.close' })
      }),
    )
    const { socket } = await connect(wsUrl(server))
    const closing = closed(socket)
    socket.send('close me')
    expect((await closing).code).toBe(1000)
  })

  it("delivers the peer's close code in websocket.disconnect (1005 when it sent none)", async () => {
    const events: InputEvent[] = []
    const server = await startServer(websocketApp(undefined, events))
    const first = await connect(wsUrl(server))
    first.socket.close(4321, 'bye')
    await waitFor(() => events.some((event) => event.type === 'websocket.disconnect'))
    expect(events.at(-1)).toEqual({ type: 'websocket.disconnect', code: 4321 })
    events.length = 0
    const second = await connect(wsUrl(server))
    second.socket.close()
    await waitFor(() => events.some((event) => event.type === 'websocket.disconnect'))
    expect(events.at(-1)).toEqual({ type: 'websocket.disconnect', code: 1005 })
    await waitFor(() => server.app.switchyard.stats().connections === 0)
  })

  it('closes with 1011 and logs when the application throws after accepting', async () => {
    const { logger, lines } = captureLogger()
    const server = await startServer(
      websocketApp(() => {
        throw new Error('handler exploded')
      }),
      { logger },
    )
    const { socket } = await connect(wsUrl(server))
    const closing = closed(socket)
    socket.send('trigger')
    expect((await closing).code).toBe(1011)
    const line = lines.find((entry) => entry.msg === 'application error')
    expect(line).toMatchObject({ level: 50, connId: anyString, err: { message: 'handler exploded' } })
    expect(server.app.switchyard.stats().applicationErrors).toBe(1)
  })

  it('closes with 1000 when the application returns while the socket is open', async () => {
    const server = await startServer(async (_scope, receive, send) => {
      await receive()
      await send({ type: 'websocket.accept' })
    })
    const { socket } = await connect(wsUrl(server))
    expect((await closed(socket)).code).toBe(1000)
    await waitFor(() => server.app.switchyard.stats().connections === 0)
  })

  it('closes with 1009 when a frame is over maxMessageBytes', async () => {
    const events: InputEvent[] = []
    const server = await startServer(websocketApp(undefined, events), { maxMessageBytes: 1024 })
    const { socket } = await connect(wsUrl(server))
    const closing = closed(socket)
    socket.send('x'.repeat(1024)) // at the limit: delivered
    socket.send('x'.repeat(1025))
    expect((await closing).code).toBe(1009)
    await waitFor(() => events.some((event) => event.type === 'websocket.disconnect'))
    expect(events.filter((event) => event.type === 'websocket.receive')).toHaveLength(1)
  })

  it('closes with 1008 and counts it when unread frames pile up past the inbound cap', async () => {
    const server = await startServer(
      async (_scope, receive, send) => {
        await receive()
        await send({ type: 'websocket.accept' })
        await new Promise(() => undefined) // never reads again; cancelled after the disconnect
      },
      { applicationCloseTimeoutMs: 50 },
    )
    const { socket } = await connect(wsUrl(server))
    const closing = closed(socket)
    for (let i = 0; i < 1001; i++) socket.send('x')
    expect((await closing).code).toBe(1008)
    await waitFor(() => server.app.switchyard.stats().connections === 0)
    expect(server.app.switchyard.stats()).toMatchObject({ inboundOverflows: 1, applicationsCancelled: 1 })
  })

  it('cancels an application that outlives applicationCloseTimeoutMs after the disconnect', async () => {
    const cancelled = deferred<unknown>()
    const server = await startServer(
      async (_scope, receive, send) => {
        await receive()
        await send({ type: 'websocket.accept' })
        await receive() // the disconnect; it then ignores it and waits for more
        await receive().catch((error: unknown) => {
          cancelled.resolve(error)
        })
      },
      { applicationCloseTimeoutMs: 100 },
    )
    const { socket } = await connect(wsUrl(server))
    const started = Date.now()
    socket.close()
    const error = await cancelled.promise
    expect(error).toBeInstanceOf(ApplicationCancelledError)
    expect(Date.now() - started).toBeGreaterThanOrEqual(90)
    await waitFor(() => server.app.switchyard.stats().connections === 0)
    expect(server.app.switchyard.stats().applicationsCancelled).toBe(1)
  })

  it('drops sends that race the client closing instead of failing the application', async () => {
    const sendResults: string[] = []
    const server = await startServer(async (_scope, receive, send) => {
      await receive()
      await send({ type: 'websocket.accept' })
      await new Promise((resolve) => setTimeout(resolve, 100)) // the client closes meanwhile
      await send({ type: 'websocket.send', text: 'late' }).then(() => sendResults.push('resolved'))
      const event = await receive()
      sendResults.push(event.type)
      await send({ type: 'websocket.send', text: 'after disconnect' }).catch((error: unknown) => {
        sendResults.push((error as { code: string }).code)
      })
    })
    const { socket } = await connect(wsUrl(server))
    socket.close()
    await waitFor(() => sendResults.length === 3)
    expect(sendResults).toEqual(['resolved', 'websocket.disconnect', 'SWY_CONNECTION_CLOSED'])
  })
})
