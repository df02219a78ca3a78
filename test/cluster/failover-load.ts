// The load and the probes failover.test.ts runs against a cluster while it fails over, and what it reads from its
// nodes: one module so the test reads as its scenario.
import { RedisUnavailableError } from '../../src/errors.js'
import type { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import type { TaskState } from '../../src/tasks/task-queue.js'
import { parseInfo } from '../setup/cluster-topology.js'
import type { ClusterNode } from '../setup/provision-cluster.js'
import { rawCommand } from '../setup/provision-redis.js'
import type { Spawned } from '../support/spawned.js'
import { sleep, waitFor } from '../support/wait.js'

export async function replication(node: ClusterNode): Promise<Map<string, string>> {
  return parseInfo(await rawCommand(node.port, ['INFO', 'replication'], 1_000))
}

/** Until `replica` holds everything `master` had written when this was called. */
export async function replicaCaughtUp(master: ClusterNode, replica: ClusterNode): Promise<void> {
  const target = Number((await replication(master)).get('master_repl_offset'))
  await waitFor('the replica to catch up', async () => {
    return Number((await replication(replica)).get('slave_repl_offset')) >= target
  })
}

export interface Sender {
  /** Task ids whose send resolved, in order. */
  readonly acknowledged: string[]
  /** When the successful attempt of each task's send began and resolved. */
  readonly began: Map<string, number>
  readonly resolved: Map<string, number>
  /** Failed attempts (each sent again), by error name and message. */
  readonly failures: Map<string, number>
  readonly done: Promise<void>
}

/**
 * Sends `tasks` tasks `t-<i>` over `lanes` concurrent lanes (each one send after another), each attempt with the same
 * idempotency key until one resolves; `onSent` is told how many have resolved so far.
 */
export function startSender(
  layer: RedisChannelLayer,
  { channel, tasks, lanes }: { channel: string; tasks: number; lanes: number },
  onSent: (count: number) => void,
): Sender {
  const sender: Omit<Sender, 'done'> = { acknowledged: [], began: new Map(), resolved: new Map(), failures: new Map() }
  const sendOne = async (id: string): Promise<void> => {
    for (;;) {
      const began = Date.now()
      try {
        await layer.send(channel, { type: 'job.run', idempotencyKey: id })
        sender.began.set(id, began)
        sender.resolved.set(id, Date.now())
        sender.acknowledged.push(id)
        return
      } catch (error) {
        const name = error instanceof RedisUnavailableError ? 'RedisUnavailableError' : (error as Error).name
        const cause = (error as Error).cause instanceof Error ? ` [${((error as Error).cause as Error).message}]` : ''
        const kind = `${name}: ${(error as Error).message}${cause}`
        sender.failures.set(kind, (sender.failures.get(kind) ?? 0) + 1)
        await sleep(20)
      }
    }
  }
  const running = Array.from({ length: lanes }, async (_, lane) => {
    for (let i = lane; i < tasks; i += lanes) {
      await sendOne(`t-${i}`)
      onSent(sender.acknowledged.length)
      await sleep(1)
    }
  })
  return { ...sender, done: Promise.all(running).then(() => undefined) }
}

export interface GroupProbe {
  readonly receipts: number[]
  sendFailures: number
  stop(): Promise<void>
}

/** A group send every `intervalMs`, and a listener receiving them: when group delivery stalls, and for how long. */
export function startGroupProbe(
  sender: RedisChannelLayer,
  listener: RedisChannelLayer,
  { group, member, intervalMs }: { group: string; member: string; intervalMs: number },
): GroupProbe {
  const state = { stopped: false }
  const probe: GroupProbe = { receipts: [], sendFailures: 0, stop: async () => undefined }
  const sending = (async () => {
    for (let n = 0; !state.stopped; n++) {
      try {
        await sender.groupSend(group, { type: 'failover.ping', n })
      } catch {
        probe.sendFailures++
      }
      await sleep(intervalMs)
    }
  })()
  const receiving = (async () => {
    while (!state.stopped) {
      try {
        await listener.receive(member, { signal: AbortSignal.timeout(1_000) })
        probe.receipts.push(Date.now())
      } catch {
        await sleep(20)
      }
    }
  })()
  probe.stop = async () => {
    state.stopped = true
    await Promise.all([sending, receiving])
  }
  return probe
}

/** The workers' log lines (pino JSON, warn and above) counted by message, for the printed line. */
export function workerLogs(workers: readonly Spawned[]): string {
  const counts = new Map<string, number>()
  for (const worker of workers) {
    const { stdout, stderr } = worker.output()
    for (const line of `${stdout}\n${stderr}`.split('\n')) {
      let message: string
      try {
        message = (JSON.parse(line) as { msg?: string }).msg ?? line
      } catch {
        message = line
      }
      if (message === '' || /^switchyard worker: /.test(message)) continue
      counts.set(message, (counts.get(message) ?? 0) + 1)
    }
  }
  return counts.size === 0 ? 'none' : [...counts].map(([message, n]) => `${n}x ${message}`).join(' | ')
}

export async function taskStates(layer: RedisChannelLayer, ids: readonly string[]): Promise<(TaskState | undefined)[]> {
  const states: (TaskState | undefined)[] = []
  for (let i = 0; i < ids.length; i += 100) {
    states.push(...(await Promise.all(ids.slice(i, i + 100).map((id) => layer.tasks.getTaskState(id)))))
  }
  return states
}
