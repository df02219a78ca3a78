/**
 * Fan-out: N clients in one group, spread over one or more server processes; a separate publisher process sends
 * M broadcasts through the system's own way (`groupSend`, PUBLISH, the Socket.IO emitter, channels_redis'
 * group_send), back to back or paced. Deliveries/s, publish-to-receive latency, lost and duplicated per client.
 */
import { nextMessage, sendTo, stopChild } from '../harness/ipc.js'
import { totalWriteSyscalls } from '../harness/proc-io.js'
import { LoadGenerators } from '../harness/load-generators.js'
import type { FanoutConnect, FanoutDone, FanoutFinish, FanoutReset } from '../harness/load-protocol.js'
import type { BenchResult, ThroughputWorkload } from '../harness/result.js'
import type { ServerHandle } from '../harness/server-process.js'
import { summarize } from '../harness/stats.js'
import type { Published, PublishRequest } from '../systems/publisher.js'
import type { SystemUnderTest } from '../systems/systems.js'
import { measureCpu, runEnv, withServers, type BenchContext } from './context.js'

export interface FanoutParams {
  readonly clients: number
  readonly messages: number
  /** 0 (default): broadcasts back to back; else one every intervalMs. */
  readonly intervalMs?: number
  /** Server processes behind the one Redis (default 1); clients are spread evenly, one load generator each. */
  readonly servers?: number
  /** After the last publish, how long a silence counts the missing messages as lost. */
  readonly idleMs?: number
  /** Broadcasts of the unmeasured run first, at the same pace (default `messages`). */
  readonly warmupMessages?: number
}

function workloadOf(params: FanoutParams): ThroughputWorkload {
  if ((params.servers ?? 1) > 1) return 'fanout 3 servers'
  return (params.intervalMs ?? 0) > 0 ? 'fanout paced' : 'fanout'
}

function sizeOf(params: FanoutParams): string {
  const size = `${params.clients} clients x ${params.messages}`
  const intervalMs = params.intervalMs ?? 0
  const paced = intervalMs > 0 ? ` at ${Math.round((params.clients * 1000) / intervalMs)}/s` : ''
  const servers = (params.servers ?? 1) > 1 ? ` over ${params.servers} servers` : ''
  return size + paced + servers
}

function serverAt(servers: readonly ServerHandle[], index: number): ServerHandle {
  const server = servers[index % servers.length]
  if (server === undefined) throw new Error('no server to connect to')
  return server
}

/** Connects the clients: all through the shared generators to one server, or one generator per server. */
async function connectClients(
  context: BenchContext,
  system: SystemUnderTest,
  servers: readonly ServerHandle[],
  params: FanoutParams,
): Promise<{ generators: LoadGenerators; own: boolean }> {
  const generators = servers.length > 1 ? LoadGenerators.start(servers.length) : context.generators
  const task = (clients: number, index: number): FanoutConnect => ({
    kind: 'fanout.connect',
    wire: system.wire,
    url: system.fanoutUrl(serverAt(servers, index).url),
    clients,
    // The warm-up's count first; `fanout.reset` gives the measured run's.
    messages: params.warmupMessages ?? params.messages,
  })
  try {
    await generators.connect(params.clients, task, 180_000)
  } catch (error) {
    if (generators !== context.generators) await generators.close()
    throw error
  }
  return { generators, own: generators !== context.generators }
}

export async function runFanout(
  context: BenchContext,
  system: SystemUnderTest,
  params: FanoutParams,
): Promise<BenchResult> {
  const workload = workloadOf(params)
  const size = sizeOf(params)
  const env = runEnv(context)
  const say = (line: string): void => {
    context.progress(`${workload} ${size} on ${system.label}: ${line}`)
  }
  say('starting')
  return withServers(system, env, params.servers ?? 1, async (servers) => {
    const { generators, own } = await connectClients(context, system, servers, params)
    const publisher = system.startPublisher(env)
    try {
      await nextMessage(publisher, 'ready', 60_000)
      const publish = async (messages: number, intervalMs: number, idleMs: number) => {
        const published = nextMessage<Published>(publisher, 'published', 600_000)
        await sendTo(publisher, { kind: 'publish', messages, intervalMs } satisfies PublishRequest)
        const { startAt, endAt, redisCommands } = await published
        const finish: FanoutFinish = { kind: 'fanout.finish', idleMs }
        const done = await generators.all<FanoutDone>(finish, 'fanout.done', 600_000)
        return { startAt, endAt, redisCommands, done }
      }
      // The run itself, unmeasured, first: every system is measured warm (JIT-compiled), as a server in service is.
      // A short burst (4 000 deliveries, until 2026-12-06) was not enough: `perf` from the start of a cluster
      // server's measured phase in the 3-server row found TurboFan in a third of its samples; and a burst does not
      // warm a paced server (its messages queue and are taken in batches, paced ones are handed over one at a time,
      // and code run ten times a second is compiled only after many seconds of it). Nor were 10 s of the paced run
      // (until 2026-12-07): `bench/tools/paced-steady.ts` split by thread showed V8's helper threads still compiling
      // 20-40 s after start (80-150 ms of a 10 s window, the whole of Switchyard's gap to `ws` on some rounds, where
      // the main threads differed by a sixth), hence `warmupMessages` on the paced row.
      say(`${params.clients} connected, warming up`)
      await publish(params.warmupMessages ?? params.messages, params.intervalMs ?? 0, 2_000)
      const reset: FanoutReset = { kind: 'fanout.reset', messages: params.messages }
      await generators.all(reset, 'fanout.reset', 30_000)
      say('publishing')
      const pids = servers.map((server) => server.pid)
      const writesBefore = await totalWriteSyscalls(pids)
      const { value, serverCpuMs, redisCpuMs } = await measureCpu(servers, system.redisPids ?? [context.redisPid], () =>
        publish(params.messages, params.intervalMs ?? 0, params.idleMs ?? 5_000),
      )
      const writesAfter = await totalWriteSyscalls(pids)
      const { startAt, endAt, redisCommands, done } = value
      const latencies = done.flatMap((d) => d.latenciesMs)
      const received = done.reduce((sum, d) => sum + d.received, 0)
      const durationMs = Math.max(...done.map((d) => d.lastReceiveAt)) - startAt
      const lost = done.reduce((sum, d) => sum + d.lost, 0)
      say(`${received} delivered, ${lost} lost`)
      return {
        system: system.name,
        label: system.label,
        workload,
        params: size,
        unit: 'deliveries',
        count: received,
        durationMs,
        perSecond: received > 0 ? (received / durationMs) * 1000 : 0,
        ...summarize(latencies),
        lost,
        duplicated: done.reduce((sum, d) => sum + d.duplicated, 0),
        serverCpuMs,
        cpuUsPerUnit: received > 0 ? (serverCpuMs * 1000) / received : 0,
        redisCpuMs,
        publishMs: endAt - startAt,
        writeSyscallsPerUnit:
          writesBefore === undefined || writesAfter === undefined || received === 0
            ? undefined
            : (writesAfter - writesBefore) / received,
        // A publisher that sent nothing through ioredis (Django's is Python) has no figure.
        publisherCommandsPerMessage: redisCommands > 0 ? redisCommands / params.messages : undefined,
      }
    } finally {
      await stopChild(publisher)
      if (own) await generators.close()
    }
  })
}
