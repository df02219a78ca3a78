import type { Socket } from 'node:net'

import { describe, expect, it } from 'vitest'

import type { Application } from '../../src/application.js'
import type { RunningServer } from '../../src/server/serve.js'
import { closed, connect, startServer, waitFor, wsUrl } from './helpers.js'

const FRAME_BYTES = 64 * 1024
const CAP_BYTES = 256 * 1024

/**
 * After accept, sends 64 KiB frames as fast as the event loop allows until told to stop, recording the largest
 * `bufferedAmount` the server-side socket reached before each send.
 */
function flooder(ref: { server?: RunningServer }, record: { maxBuffered: number; sent: number; stop: boolean }) {
  const application: Application = async (_scope, receive, send) => {
    await receive()
    await send({ type: 'websocket.accept' })
    const frame = new Uint8Array(FRAME_BYTES)
    while (!record.stop) {
      const serverSocket = [...(ref.server?.app.websocketServer.clients ?? [])][0]
      record.maxBuffered = Math.max(record.maxBuffered, serverSocket?.bufferedAmount ?? 0)
      await send({ type: 'websocket.send', bytes: frame })
      record.sent++
      await new Promise((resolve) => setImmediate(resolve))
    }
    await receive()
  }
  return application
}

function pauseReading(client: unknown): Socket {
  const socket = (client as { _socket: Socket })._socket
  socket.pause()
  return socket
}

describe('a client that never reads', () => {
  it('is closed with 1013 once its outbound buffer passes maxOutboundBytes, and the drops are counted', async () => {
    const record = { maxBuffered: 0, sent: 0, stop: false }
    const ref: { server?: RunningServer } = {}
    const server = await startServer(flooder(ref, record), {
      maxOutboundBytes: CAP_BYTES,
      slowClientCloseGraceMs: 10_000,
    })
    ref.server = server
    const { socket } = await connect(wsUrl(server))
    const tcp = pauseReading(socket)
    const closing = closed(socket)
    await waitFor(() => server.app.switchyard.stats().closedSlow === 1, 10_000, 'the slow-client close')
    const sentAtClose = record.sent
    await waitFor(() => record.sent >= sentAtClose + 5, 2000, 'more sends after the close')
    record.stop = true
    // Never far over the cap: at most one frame (plus frame headers) beyond it.
    expect(record.maxBuffered).toBeLessThanOrEqual(CAP_BYTES + FRAME_BYTES)
    expect(record.maxBuffered).toBeGreaterThan(0)
    const stats = server.app.switchyard.stats()
    expect(stats.droppedOutbound).toBeGreaterThanOrEqual(6) // the frame that hit the cap and every one after
    tcp.resume()
    expect(await closing).toEqual({ code: 1013, reason: 'client too slow' })
    await waitFor(() => server.app.switchyard.stats().connections === 0)
  })

  it('is terminated when the close frame cannot be flushed within slowClientCloseGraceMs', async () => {
    const record = { maxBuffered: 0, sent: 0, stop: false }
    const ref: { server?: RunningServer } = {}
    const server = await startServer(flooder(ref, record), { maxOutboundBytes: CAP_BYTES, slowClientCloseGraceMs: 200 })
    ref.server = server
    const { socket } = await connect(wsUrl(server))
    pauseReading(socket)
    await waitFor(() => server.app.switchyard.stats().closedSlow === 1, 10_000, 'the slow-client close')
    const closedAt = Date.now()
    record.stop = true
    await waitFor(() => server.app.switchyard.stats().connections === 0, 2000, 'the terminate')
    expect(Date.now() - closedAt).toBeGreaterThanOrEqual(150)
    expect(server.app.websocketServer.clients.size).toBe(0)
  })
})
