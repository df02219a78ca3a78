import { describe, expect, it, vi } from 'vitest'

import { WebsocketConsumer, type WebsocketData } from '../../consumers/websocket-consumer.js'
import { anyString, captureLogger, connect, nextMessage, startServer, wsUrl } from './helpers.js'

/** Logs only when a client says `log`; otherwise echoes. */
class QuietConsumer extends WebsocketConsumer {
  override async receive(data: WebsocketData): Promise<void> {
    if ('text' in data && data.text === 'log') this.log.info({ group: 'lobby' }, 'asked to log')
    await this.send({ text: 'ok' })
  }
}

describe('connection loggers (docs/performance/idle-connections.md)', () => {
  it("makes a consumer's child logger on its first line, bound to connId and the consumer", async () => {
    const { logger, lines } = captureLogger()
    const spy = vi.spyOn(logger, 'child')
    // fastify makes its request loggers through the same logger: count the consumers' children only.
    const consumerChildren = (): number => spy.mock.calls.filter(([bindings]) => 'consumer' in bindings).length
    const server = await startServer(QuietConsumer.asApp(), { logger })
    const { socket } = await connect(wsUrl(server))
    socket.send('hello')
    await nextMessage(socket)
    // Connected, accepted and echoed: no logger was made for the connection.
    expect(consumerChildren()).toBe(0)
    socket.send('log')
    await nextMessage(socket)
    expect(consumerChildren()).toBe(1)
    const line = lines.find((entry) => entry.msg === 'asked to log')
    expect(line).toMatchObject({ level: 30, connId: anyString, consumer: 'QuietConsumer', group: 'lobby' })
    socket.send('log')
    await nextMessage(socket)
    expect(consumerChildren()).toBe(1)
    socket.close()
  })

  it('gives a consumer outside a server a child of the default logger, or keeps the one it is given', () => {
    const consumer = new QuietConsumer()
    expect(consumer.log.bindings()).toMatchObject({ consumer: 'QuietConsumer' })
    expect(consumer.log.bindings()).not.toHaveProperty('connId')
    const { logger } = captureLogger()
    consumer.log = logger
    expect(consumer.log).toBe(logger)
  })
})
