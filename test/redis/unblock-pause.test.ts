// A master pauses writes during CLUSTER FAILOVER (and FAILOVER, CLIENT PAUSE WRITE), which postpones a blocking read
// (BZPOPMIN and BZMPOP are writes) issued meanwhile. Redis 7.0.15 crashes ("Guru Meditation: Unknown btype in
// replyToBlockedClientTimedOut()", fixed by redis/redis#14164) when CLIENT UNBLOCK then targets that postponed read:
// the failover test's master died so when the layer cut its blocking read short during the failover's pause.
import { afterAll, beforeAll, expect, it } from 'vitest'

import { unblockWhenUnpaused } from '../../src/layers/redis/redis-shard.js'
import { startPrivateRedis, type RunningRedis } from '../setup/provision-redis.js'
import { RawClients, redisServerBin, sleep, uniquePrefix } from './helpers.js'

// A private server: a crash here must not take the shared one (and every other test file) down.
let server: RunningRedis | undefined
const raw = new RawClients()

beforeAll(async () => {
  server = await startPrivateRedis(redisServerBin())
})

afterAll(async () => {
  raw.closeAll()
  await server?.stop()
})

it('unblocks a blocking read postponed by a write pause once the pause is over, and the server stays up', async () => {
  const [admin, reader, commands] = [raw.connect(server!.url), raw.connect(server!.url), raw.connect(server!.url)]
  const id = Number(await reader.call('CLIENT', 'ID'))
  const key = `${uniquePrefix()}queue`
  const pausedAt = Date.now()
  await admin.call('CLIENT', 'PAUSE', '1000', 'WRITE')
  const read = reader.bzpopmin(key, 5)
  await sleep(100)
  await unblockWhenUnpaused(commands, id)
  const unblockedAt = Date.now()
  // A plain CLIENT UNBLOCK would have crashed the server by now; this one waited for the pause to end, then ended
  // the read well before its 5 s timeout.
  expect(await admin.ping()).toBe('PONG')
  expect(unblockedAt - pausedAt).toBeGreaterThanOrEqual(900)
  expect(await read).toBeNull()
  expect(Date.now() - pausedAt).toBeLessThan(4_000)
})
