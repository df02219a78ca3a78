/**
 * Fan-out: N clients in one group; a separate publisher process sends M broadcasts through the layer
 * (`groupSend`) or PUBLISH. Deliveries/s, publish-to-receive latency, lost and duplicated per client.
 */
import { nextMessage, sendTo, stopChild } from '../harness/ipc.js'
import type { FanoutConnect, FanoutDone, FanoutFinish } from '../harness/load-protocol.js'
import type { BenchResult } from '../harness/result.js'
import { summarize } from '../harness/stats.js'
import type { Published, PublishRequest } from '../systems/publisher.js'
import type { SystemUnderTest } from '../systems/systems.js'
import { measureCpu, runEnv, withServer, type BenchContext } from './context.js'

export interface FanoutParams {
  readonly clients: number
  readonly messages: number
  /** After the last publish, how long a silence counts the missing messages as lost. */
  readonly idleMs?: number
}

export const DEFAULT_FANOUT_CLIENTS = [200, 1_000, 5_000] as const
export const DEFAULT_FANOUT_MESSAGES = 100

export async function runFanout(
  context: BenchContext,
  system: SystemUnderTest,
  params: FanoutParams,
): Promise<BenchResult> {
  const size = `${params.clients} clients x ${params.messages}`
  const env = runEnv(context)
  context.progress(`fanout ${size} on ${system.label}: starting server`)
  return withServer(system, env, async (server) => {
    const url = system.fanoutUrl(server.url)
    await context.generators.connect(
      params.clients,
      (clients): FanoutConnect => ({
        kind: 'fanout.connect',
        wire: system.wire,
        url,
        clients,
        messages: params.messages,
      }),
      120_000,
    )
    context.progress(`fanout ${size} on ${system.label}: ${params.clients} connected, publishing`)
    const publisher = system.startPublisher(env)
    try {
      await nextMessage(publisher, 'ready', 30_000)
      const { value, serverCpuMs, redisCpuMs } = await measureCpu(server, context.redisPid, async () => {
        const published = nextMessage<Published>(publisher, 'published', 600_000)
        await sendTo(publisher, { kind: 'publish', messages: params.messages, intervalMs: 0 } satisfies PublishRequest)
        const { startAt } = await published
        const done = await context.generators.all<FanoutDone>(
          { kind: 'fanout.finish', idleMs: params.idleMs ?? 5_000 } satisfies FanoutFinish,
          'fanout.done',
          600_000,
        )
        return { startAt, done }
      })
      const { startAt, done } = value
      const latencies = done.flatMap((d) => d.latenciesMs)
      const received = done.reduce((sum, d) => sum + d.received, 0)
      const durationMs = Math.max(...done.map((d) => d.lastReceiveAt)) - startAt
      return {
        system: system.name,
        label: system.label,
        workload: 'fanout',
        params: size,
        unit: 'deliveries',
        count: received,
        durationMs,
        perSecond: received > 0 ? (received / durationMs) * 1000 : 0,
        ...summarize(latencies),
        lost: done.reduce((sum, d) => sum + d.lost, 0),
        duplicated: done.reduce((sum, d) => sum + d.duplicated, 0),
        serverCpuMs,
        cpuUsPerUnit: received > 0 ? (serverCpuMs * 1000) / received : 0,
        redisCpuMs,
      }
    } finally {
      await stopChild(publisher)
    }
  })
}
