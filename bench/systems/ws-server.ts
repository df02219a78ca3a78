/**
 * The reference: a bare `ws` server with Redis pub/sub, in its own process. `/echo/` parses and re-serializes
 * each JSON message (the work JsonWebsocketConsumer does); `/fanout/` clients get every message PUBLISHed on
 * `<BENCH_PREFIX>:<BENCH_GROUP>` through one subscriber connection.
 */
import { Redis } from 'ioredis'
import { WebSocketServer, type WebSocket } from 'ws'

import { announceServer } from '../harness/server-child.js'
import { requireEnv } from './env.js'

const channel = `${requireEnv('BENCH_PREFIX')}:${requireEnv('BENCH_GROUP')}`
const subscriber = new Redis(requireEnv('BENCH_REDIS_URL'))
const members = new Set<WebSocket>()

subscriber.on('message', (_channel: string, text: string) => {
  for (const socket of members) socket.send(text)
})
await subscriber.subscribe(channel)

const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false })
server.on('connection', (socket, request) => {
  if (request.url === '/fanout/') {
    members.add(socket)
    socket.on('close', () => {
      members.delete(socket)
    })
  } else if (request.url === '/echo/') {
    socket.on('message', (data: Buffer, isBinary) => {
      if (isBinary) socket.close(1003)
      else socket.send(JSON.stringify(JSON.parse(data.toString()) as unknown))
    })
  } else {
    socket.close(4004)
  }
})
await new Promise<void>((resolve) => server.once('listening', resolve))
const address = server.address()
if (address === null || typeof address !== 'object') throw new Error('the ws server has no TCP address')

announceServer(address.port, async () => {
  for (const socket of server.clients) socket.terminate()
  await new Promise<void>((resolve) => {
    server.close(() => {
      resolve()
    })
  })
  subscriber.disconnect()
})
