// Issue 18: a group spread over three server processes on a Redis Cluster gets every message, in order, none lost.
// Real `switchyard serve` processes, each with its own cluster layer (per-shard group sends, per-shard readers), real
// WebSocket clients, and a sender in this process on the same prefix: the path a deployment on a cluster runs.
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'

import { afterEach, describe, expect, inject, it } from 'vitest'
import WebSocket from 'ws'

import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import { spawnProcess, type Spawned } from '../support/spawned.js'
import { waitFor } from '../support/wait.js'

const nodes = inject('clusterUrls')
const repoRoot = fileURLToPath(new URL('../../', import.meta.url))
const APP = 'test/cluster/fixtures/fanout-app.ts'
const GROUP = 'fanout.room'

// Lean for two shared cores: 3 000 deliveries, every client on a server of its own process's choosing.
const SERVERS = 3
const CLIENTS = 60
const MESSAGES = 50

interface Member {
  readonly server: number
  readonly socket: WebSocket
  readonly seqs: number[]
}

const cleanups: (() => Promise<void> | void)[] = []

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** `switchyard serve --app fanout-app.ts` on a free port; resolves with its ws:// base URL. */
async function startServer(prefix: string): Promise<string> {
  const server: Spawned = spawnProcess(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--app', APP, '--port', '0'],
    {
      cwd: repoRoot,
      env: {
        ...process.env,
        FANOUT_CLUSTER_URLS: nodes.join(','),
        FANOUT_PREFIX: prefix,
        FANOUT_GROUP: GROUP,
      },
    },
  )
  cleanups.push(() => {
    server.kill()
  })
  const [, url] = await server.waitForOutput(/ at http:\/\/(127\.0\.0\.1:\d+)/, 30_000)
  return `ws://${url!}`
}

/** A client of `base`'s `/fanout/`, open (so joined: static groups are joined before connect() accepts). */
async function connectMember(base: string, server: number): Promise<Member> {
  const socket = new WebSocket(`${base}/fanout/`)
  cleanups.push(() => {
    socket.terminate()
  })
  const member: Member = { server, socket, seqs: [] }
  socket.on('message', (data: Buffer) => {
    member.seqs.push((JSON.parse(data.toString()) as { seq: number }).seq)
  })
  await new Promise<void>((resolve, reject) => {
    socket.once('open', resolve)
    socket.once('error', reject)
  })
  return member
}

describe('fan-out over three server processes on a Redis Cluster', () => {
  it(`delivers ${MESSAGES} group messages to ${CLIENTS} clients spread over ${SERVERS} servers, in order`, async () => {
    const prefix = `fo${randomBytes(6).toString('hex')}`
    const sender = new RedisChannelLayer({ cluster: { nodes }, prefix })
    cleanups.push(async () => {
      await sender.flush()
      await sender.close()
    })
    const bases = await Promise.all(Array.from({ length: SERVERS }, () => startServer(prefix)))
    const members = await Promise.all(
      Array.from({ length: CLIENTS }, (_, index) => connectMember(bases[index % SERVERS]!, index % SERVERS)),
    )

    for (let seq = 0; seq < MESSAGES; seq++) await sender.groupSend(GROUP, { type: 'fanout.message', seq })

    const expected = Array.from({ length: MESSAGES }, (_, seq) => seq)
    const delivered = (): number => members.reduce((sum, member) => sum + member.seqs.length, 0)
    // A shortfall is reported below, client by client, rather than as a bare timeout.
    await waitFor('every delivery', () => delivered() >= CLIENTS * MESSAGES, { timeoutMs: 10_000 }).catch(() => 0)
    // Duplicates would arrive after the last expected delivery: give them a moment to show.
    await new Promise((resolve) => setTimeout(resolve, 200))

    const wrong = members
      .filter((member) => member.seqs.join() !== expected.join())
      .map(({ server, seqs }) => ({
        server,
        received: seqs.length,
        missing: expected.filter((seq) => !seqs.includes(seq)),
        inOrder: seqs.every((seq, index) => index === 0 || seq > seqs[index - 1]!),
      }))
    expect(wrong).toEqual([])
    expect(delivered()).toBe(CLIENTS * MESSAGES)
  }, 60_000)
})
