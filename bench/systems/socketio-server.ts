/**
 * Socket.IO 4.8 under test, in its own process: a plain server with the Redis adapter, WebSocket transport only.
 * An `echo` event is answered with the same payload; sockets that connect with the query `role=fanout` join the
 * room BENCH_GROUP, which the publisher reaches through @socket.io/redis-emitter. Configured by BENCH_REDIS_URL,
 * BENCH_PREFIX (the adapter's key, so runs never see each other) and BENCH_GROUP.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

import { createAdapter } from '@socket.io/redis-adapter'
import { Redis } from 'ioredis'
import { Server } from 'socket.io'

import { announceServer } from '../harness/server-child.js'
import { requireEnv } from './env.js'

const group = requireEnv('BENCH_GROUP')
const redisUrl = requireEnv('BENCH_REDIS_URL')
const pubClient = new Redis(redisUrl)
const subClient = new Redis(redisUrl)

const httpServer = createServer()
// What the other systems do too: no compression, no long-polling fallback, no client bundle to serve.
const io = new Server(httpServer, {
  transports: ['websocket'],
  perMessageDeflate: false,
  httpCompression: false,
  serveClient: false,
  adapter: createAdapter(pubClient, subClient, { key: requireEnv('BENCH_PREFIX') }),
})

io.on('connection', (socket) => {
  // Joined before the client can act on the CONNECT reply: the room join is synchronous in the same tick.
  if (socket.handshake.query.role === 'fanout') void socket.join(group)
  socket.on('echo', (payload: unknown) => {
    socket.emit('echo', payload)
  })
})

await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve))
const { port } = httpServer.address() as AddressInfo

announceServer(port, async () => {
  io.disconnectSockets(true)
  await io.close()
  pubClient.disconnect()
  subClient.disconnect()
})
