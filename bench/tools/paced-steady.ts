/**
 * `npx tsx bench/tools/paced-steady.ts [--system switchyard] [--clients 200] [--windows 5] [--window-ms 10000]
 * [--idle-ms 0] [--interval-ms 100] [--prewarm 0] [--prewarm-interval-ms 10]`:
 * one server of a system under test on a private Redis, `clients` WebSocket members of the fan-out group, and a
 * broadcast every `interval-ms` for `windows` windows; prints the server's CPU per delivery in each window. The bench's
 * paced row measures 10 s after 40 s of the same pace; this shows whether a gap is warm-up (it shrinks in later
 * windows) or steady, and how much consecutive windows differ on this machine. With `--idle-ms`, it first prints
 * the server's CPU per second with every client connected and nothing sent (what its periodic work costs, which the
 * bench's per-delivery figure includes). On Linux each window also splits the CPU by thread (proc-threads.ts): a
 * window made slow by V8 compiling in the background shows as helper time. With `--prewarm N`, N broadcasts every
 * `prewarm-interval-ms` go first (its CPU printed apart): the code a paced broadcast runs, compiled before the windows
 * start. Run `npm run build` first.
 */
import { parseArgs } from 'node:util'

import { WebSocket } from 'ws'

import { describeThreadCpu, threadCpu } from '../harness/proc-threads.js'
import { startBenchRedis } from '../harness/redis.js'
import { makeBroadcaster } from '../systems/broadcasters.js'
import { SYSTEMS, type SystemName } from '../systems/systems.js'

const { values } = parseArgs({
  options: {
    system: { type: 'string', default: 'switchyard' },
    clients: { type: 'string', default: '200' },
    windows: { type: 'string', default: '5' },
    'window-ms': { type: 'string', default: '10000' },
    'idle-ms': { type: 'string', default: '0' },
    'interval-ms': { type: 'string', default: '100' },
    prewarm: { type: 'string', default: '0' },
    'prewarm-interval-ms': { type: 'string', default: '10' },
  },
})
const name = values.system as SystemName
if (!(name in SYSTEMS) || name === 'django' || name === 'socketio') {
  throw new Error(`--system must be switchyard or ws, not ${name}`)
}
const system = SYSTEMS[name]
const clients = Number(values.clients)
const windows = Number(values.windows)
const windowMs = Number(values['window-ms'])
const idleMs = Number(values['idle-ms'])
const intervalMs = Number(values['interval-ms'])
const prewarm = Number(values.prewarm)
const prewarmIntervalMs = Number(values['prewarm-interval-ms'])

const redis = await startBenchRedis()
const target = { redisUrl: redis.url, prefix: `steady-${process.pid}`, group: 'bench.steady' }
const server = await system.start({
  BENCH_REDIS_URL: target.redisUrl,
  BENCH_PREFIX: target.prefix,
  BENCH_GROUP: target.group,
})
const sockets: WebSocket[] = []
let received = 0
try {
  for (let i = 0; i < clients; i++) {
    const socket = new WebSocket(system.fanoutUrl(server.url), { perMessageDeflate: false })
    socket.on('message', () => {
      received++
    })
    await new Promise((resolve, reject) => {
      socket.once('open', resolve)
      socket.once('error', reject)
    })
    sockets.push(socket)
  }
  if (idleMs > 0) {
    // Connections settle first (handshakes, group joins), so the window sees only what an idle server repeats.
    await new Promise((resolve) => setTimeout(resolve, 2_000))
    const cpuBefore = await server.cpuMs()
    await new Promise((resolve) => setTimeout(resolve, idleMs))
    const cpuMs = (await server.cpuMs()) - cpuBefore
    console.log(`${system.label} idle: ${((cpuMs * 1000) / idleMs).toFixed(2)} ms CPU per second over ${idleMs} ms`)
  }
  const broadcaster = await makeBroadcaster(name, target)
  let seq = 0
  const paced = async (count: number, everyMs: number): Promise<void> => {
    for (let i = 0; i < count; i++) {
      const due = Date.now() + everyMs
      await broadcaster.publish(seq++)
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now())))
    }
  }
  /** Broadcasts `count`, one every `everyMs`, and says what the server spent meanwhile, in all and by thread. */
  const measured = async (count: number, everyMs: number): Promise<{ cpuMs: number; threads: string }> => {
    const cpuBefore = await server.cpuMs()
    const threadsBefore = await threadCpu(server.pid)
    await paced(count, everyMs)
    const cpuMs = (await server.cpuMs()) - cpuBefore
    return { cpuMs, threads: describeThreadCpu(threadsBefore, await threadCpu(server.pid)) }
  }
  if (prewarm > 0) {
    const { cpuMs, threads } = await measured(prewarm, prewarmIntervalMs)
    console.log(
      `${system.label} prewarm: ${prewarm} broadcasts every ${prewarmIntervalMs} ms, ${cpuMs.toFixed(0)} ms CPU (${threads})`,
    )
  }
  const perWindow = windowMs / intervalMs
  for (let w = 0; w < windows; w++) {
    const receivedBefore = received
    const { cpuMs, threads } = await measured(perWindow, intervalMs)
    const deliveries = received - receivedBefore
    const perDelivery = deliveries > 0 ? ((cpuMs * 1000) / deliveries).toFixed(1) : '-'
    console.log(
      `${system.label} window ${w + 1}: ${deliveries} deliveries, ${cpuMs.toFixed(0)} ms CPU, ${perDelivery} µs each (${threads})`,
    )
  }
  await broadcaster.close()
} finally {
  for (const socket of sockets) socket.terminate()
  await server.stop()
  await redis.stop()
}
