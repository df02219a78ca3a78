// The reader's blocking connection speaks RESP itself (resp-connection.ts) rather than through ioredis: what ioredis
// did for it (log in, reconnect, say which errors mean "never sent") is checked here against a real Redis.
import { afterEach, describe, expect, it } from 'vitest'

import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import { isConnectionError, neverSent } from '../../src/layers/redis/redis-shard.js'
import { RespConnection, type RespTarget } from '../../src/layers/redis/resp-connection.js'
import { freeLoopbackPort, startPrivateRedis, type RunningRedis } from '../setup/provision-redis.js'
import { RawClients, redisServerBin, uniquePrefix, waitFor } from './helpers.js'

const PASSWORD = 'blocking-pw'
const ACL_USER = ['--user', 'bob', 'on', `>${PASSWORD}`, '~*', '&*', '+@all']

const raw = new RawClients()
const servers: RunningRedis[] = []
const connections: RespConnection[] = []
const layers: RedisChannelLayer[] = []

afterEach(async () => {
  for (const connection of connections.splice(0)) connection.disconnect()
  for (const layer of layers.splice(0)) await layer.close()
  raw.closeAll()
  for (const server of servers.splice(0)) await server.stop()
})

async function startServer(extraArgs: readonly string[] = []): Promise<RunningRedis> {
  const server = await startPrivateRedis(redisServerBin(), { extraArgs: [...extraArgs] })
  servers.push(server)
  return server
}

interface Watched {
  readonly connection: RespConnection
  readonly errors: string[]
  readonly closes: { count: number }
}

function open(target: Partial<RespTarget> & { port: number }): Watched {
  const errors: string[] = []
  const closes = { count: 0 }
  const connection = new RespConnection(
    { host: '127.0.0.1', connectionName: 'switchyard-blocking', connectTimeoutMs: 2_000, ...target },
    {
      onError: (error) => errors.push(error.message),
      onClose: () => {
        closes.count++
      },
    },
  )
  connections.push(connection)
  return { connection, errors, closes }
}

describe('the blocking connection', () => {
  it('logs in as the URL says (ACL user, database), names itself, and the layer reads through it', async () => {
    const server = await startServer(ACL_USER)
    const prefix = uniquePrefix()
    const layer = new RedisChannelLayer({ hosts: [`redis://bob:${PASSWORD}@127.0.0.1:${server.port}/3`], prefix })
    layers.push(layer)
    await layer.ready()
    const channel = await layer.newChannel()
    await layer.send(channel, { type: 'test.message', n: 1 })
    expect(await layer.receive(channel, { signal: AbortSignal.timeout(5_000) })).toEqual({ type: 'test.message', n: 1 })
    const clients = (await raw.connect(server.url).client('LIST')) as string
    const blocking = clients.split('\n').find((line) => line.includes('name=switchyard-blocking '))
    expect(blocking).toMatch(/ db=3 /)
    expect(blocking).toMatch(/ user=bob /)
    // The receive proves the read looked in database 3, where the send wrote: none of the layer's keys is in 0.
    expect(await raw.connect(server.url).keys(`${prefix}*`)).toEqual([])
  })

  it('tries a refused login again with backoff, reporting each refusal, and reads once the password is right', async () => {
    const server = await startServer(ACL_USER)
    const { connection, errors } = open({ port: server.port, username: 'bob', password: 'other-pw' })
    await waitFor('two refused logins', () => errors.filter((error) => error.startsWith('WRONGPASS')).length >= 2)
    expect(connection.status).not.toBe('ready')
    const pop = connection.popOne(['k'], 1)
    await expect(pop).rejects.toSatisfy(neverSent)
    const client = raw.connect(server.url)
    await client.acl('SETUSER', 'bob', '>other-pw')
    await connection.whenReady(Date.now() + 5_000)
    expect(connection.status).toBe('ready')
    await client.zadd('k', 1, 'member')
    const popped = await connection.popOne(['k'], 1)
    expect(popped?.key).toBe('k')
    expect(popped?.entries.map(String)).toEqual(['member', '1'])
  })

  it('fails the read in flight when its connection is killed, and reconnects by itself with a new CLIENT ID', async () => {
    const server = await startServer()
    const { connection, closes } = open({ port: server.port })
    await connection.whenReady(Date.now() + 5_000)
    const first = await connection.clientId()
    const client = raw.connect(server.url)
    expect(await client.client('LIST', 'ID', first)).toMatch(/name=switchyard-blocking /)
    const read = connection.popMany(['q1', 'q2'], 10, 5)
    await client.client('KILL', 'ID', String(first))
    const error = await read.then(
      () => undefined,
      (reason: unknown) => reason,
    )
    expect(error).toBeInstanceOf(Error)
    expect(isConnectionError(error)).toBe(true)
    expect(closes.count).toBe(1)
    await waitFor('the reconnect', () => connection.status === 'ready')
    const second = await connection.clientId()
    expect(second).not.toBe(first)
    await client.zadd('q2', 1, 'a', 2, 'b', 3, 'c')
    const popped = await connection.popMany(['q1', 'q2'], 2, 1)
    expect(popped?.key).toBe('q2')
    expect(popped?.entries.map(String)).toEqual(['a', '1', 'b', '2'])
    expect((await connection.take('q2', 5)).map(String)).toEqual(['c', '3'])
    expect(await connection.popMany(['q1', 'q2'], 2, 0.05)).toBeNull()
  })

  it('refuses a command while there is no server as never sent, and ends for good on disconnect', async () => {
    const { connection, errors } = open({ port: await freeLoopbackPort() })
    await waitFor('a refused connection', () => errors.some((error) => error.includes('ECONNREFUSED')))
    await expect(connection.clientId()).rejects.toSatisfy(neverSent)
    connection.disconnect()
    expect(connection.status).toBe('end')
    const started = Date.now()
    await connection.whenReady(Date.now() + 5_000)
    expect(Date.now() - started).toBeLessThan(1_000)
  })
})
