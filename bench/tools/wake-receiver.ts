/**
 * The measured side of `wake-cost.ts`, a process of its own: waits for messages on a private Redis the way
 * BENCH_WAKE_MODE says, and after `warm` wakes reports its CPU time per wake over the next `wakes`.
 * - `pop`: a blocking BZMPOP through ioredis, issued again after every reply (as Switchyard's reader does);
 * - `subscribe`: an ioredis subscriber, which Redis pushes every PUBLISH to (bare `ws` + pub/sub's reader);
 * - `raw-pop`: the same BZMPOP written as RESP bytes on a plain socket, no client library, to tell the library's
 *   share of `pop` from the command's own (a write per wake);
 * - `layer`: the built package's RedisChannelLayer, one member of the group `wake` receiving (its whole reading path:
 *   the blocking read, the decode, the hand-over), prefix BENCH_WAKE_KEY. With BENCH_WAKE_EXIT=1 it exits once done,
 *   so that `BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"` gets its profile written.
 */
import { connect } from 'node:net'

import { Redis } from 'ioredis'
import { RedisChannelLayer } from 'switchyard-channels'

import { sendToParent } from '../harness/ipc.js'

const mode = process.env.BENCH_WAKE_MODE
const url = process.env.BENCH_REDIS_URL
const key = process.env.BENCH_WAKE_KEY
const MODES = ['pop', 'subscribe', 'raw-pop', 'layer']
if (url === undefined || key === undefined || mode === undefined || !MODES.includes(mode)) {
  throw new Error(`BENCH_REDIS_URL, BENCH_WAKE_KEY and BENCH_WAKE_MODE (${MODES.join(', ')}) are required`)
}
const warm = Number(process.env.BENCH_WAKE_WARM ?? '50')
const wakes = Number(process.env.BENCH_WAKE_COUNT ?? '200')

let woken = 0
let cpuAtWarm: NodeJS.CpuUsage | undefined
/** Counts one wake; true once the measured ones are done (and reported). */
function wake(): boolean {
  woken++
  if (woken === warm) cpuAtWarm = process.cpuUsage()
  if (woken < warm + wakes) return false
  const { user, system } = process.cpuUsage(cpuAtWarm)
  sendToParent({ kind: 'wake.done', userUs: user / wakes, systemUs: system / wakes })
  return true
}

const { hostname, port } = new URL(url)
if (mode === 'subscribe') {
  const subscriber = new Redis(url)
  subscriber.on('message', () => {
    if (wake()) subscriber.disconnect()
  })
  await subscriber.subscribe(key)
} else if (mode === 'pop') {
  const client = new Redis(url)
  await client.ping()
  void (async () => {
    for (;;) {
      const reply = await client.callBuffer('BZMPOP', 2, 1, key, 'MIN', 'COUNT', 100)
      if (reply !== null && wake()) break
    }
    client.disconnect()
  })()
} else if (mode === 'layer') {
  const layer = new RedisChannelLayer({ hosts: [url], prefix: key })
  const channel = await layer.newChannel()
  await layer.groupAdd('wake', channel)
  void (async () => {
    for (;;) {
      await layer.receive(channel)
      if (wake()) break
    }
    await layer.close()
    if (process.env.BENCH_WAKE_EXIT === '1') process.exit(0)
  })()
} else {
  const socket = connect(Number(port), hostname)
  await new Promise((resolve) => socket.once('connect', resolve))
  const arg = (value: string): string => `$${Buffer.byteLength(value)}\r\n${value}\r\n`
  const command = Buffer.from(`*7\r\n${['BZMPOP', '2', '1', key, 'MIN', 'COUNT', '100'].map(arg).join('')}`)
  socket.on('data', (data: Buffer) => {
    // A paced message arrives alone: one reply per read. `*-1` is the 2 s timeout's null reply.
    const isNull = data[1] === 0x2d
    if (!isNull && wake()) socket.destroy()
    else socket.write(command)
  })
  socket.write(command)
}
sendToParent({ kind: 'wake.started' })
