import { once } from 'node:events'
import { WebSocket, WebSocketServer } from 'ws'

import { waitFor } from '../../support/wait.js'

/** Socket I/O on loopback takes well under a millisecond: look often. */
const POLL = { intervalMs: 2 }

/**
 * A real `ws` server on 127.0.0.1 for the client tests: records every text frame it receives (in order, across
 * connections) and exposes its sockets so a test can send to them or close them with a chosen code. `stop()`
 * behaves like the server process going away (sockets destroyed, clients see 1006); `TestServer.start(port)`
 * brings a new one up on the same port.
 */
export class TestServer {
  readonly sockets: WebSocket[] = []
  readonly received: string[] = []
  /** Close codes the server saw from clients, in order. */
  readonly closeCodes: number[] = []
  /** Subprotocols clients asked for, per connection. */
  readonly protocols: string[] = []
  private stopped = false

  private constructor(
    private readonly wss: WebSocketServer,
    readonly port: number,
  ) {
    wss.on('connection', (socket) => {
      this.sockets.push(socket)
      this.protocols.push(socket.protocol)
      socket.on('message', (data, isBinary) => {
        // The default binaryType, nodebuffer, always delivers one Buffer.
        if (!isBinary) this.received.push((data as Buffer).toString('utf8'))
      })
      socket.on('close', (code) => this.closeCodes.push(code))
    })
  }

  static async start(port = 0): Promise<TestServer> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port })
    await once(wss, 'listening')
    const address = wss.address()
    if (address === null || typeof address === 'string') throw new Error('expected a TCP address')
    return new TestServer(wss, address.port)
  }

  /** A port nothing listens on (it did a moment ago), for clients that must start disconnected. */
  static async freePort(): Promise<number> {
    const server = await TestServer.start()
    await server.stop()
    return server.port
  }

  url(path = '/ws/test/'): string {
    return `ws://127.0.0.1:${this.port}${path}`
  }

  get connections(): number {
    return this.sockets.length
  }

  /** The socket of the `n`th connection (1-based), once it exists. */
  async connection(n: number): Promise<WebSocket> {
    await waitFor(`connection ${n} on port ${this.port}`, () => this.sockets.length >= n, POLL)
    return this.sockets[n - 1]!
  }

  async receivedCount(n: number): Promise<string[]> {
    await waitFor(`${n} frames on port ${this.port}`, () => this.received.length >= n, POLL)
    return this.received
  }

  /** Like the process going away: every socket destroyed without a close frame, then the listener closed. */
  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    for (const socket of this.sockets) socket.terminate()
    await new Promise<void>((resolve, reject) => {
      this.wss.close((error) => {
        if (error) reject(error)
        else resolve()
      })
    })
  }
}
