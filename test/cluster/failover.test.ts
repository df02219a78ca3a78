/**
 * Issue 18 item 3: a Redis Cluster failover under load. A private cluster (3 masters, 3 replicas, AOF `appendfsync
 * always`, node timeout 1 s); two real `switchyard worker` processes (fixtures/cluster-worker-app.ts) and a sender on
 * cluster layers; 2 000 tasks sent over 4 lanes, and halfway through the master holding the task channel's shard
 * is (a) failed over by CLUSTER FAILOVER on its replica, or (b) SIGKILLed (its replica takes over; it is restarted and
 * rejoins as a replica). A group and its member channel live on that master too, and a listener in the test process
 * receives a group send every 50 ms. No worker is restarted: every process must follow the new master by itself.
 *
 * Asserted: every task whose send resolved succeeded, and no claim to run a task began after its success was confirmed;
 * no run started after its final success; sends, group delivery and both workers come back within a bound. Sends
 * refused meanwhile (RedisUnavailableError) are sent again with the same idempotency key, and counted. The timings are
 * printed. Adapted from the Sentinel version (h18-sentinel: test/redis/sentinel-failover.test.ts).
 *
 * Replication is asynchronous: a write the master acknowledged may not have reached its replica when it is SIGKILLed.
 * Without `waitForReplicas`, one SIGKILL run in about seventeen lost 4 tasks, the last send of each lane, acknowledged
 * just before the kill, never run (each in the dead master's AOF, absent from the promoted replica). So the SIGKILL run
 * sets `waitForReplicas` on the sender and the workers: a send or ack resolves only once the replica has it, and
 * nothing may be lost. Until the killed master rejoins as the new master's replica, the writes on its shards wait out
 * the timeout and fail, and are sent again. CLUSTER FAILOVER (without the option) loses nothing either: the replica
 * takes over only once it has caught up. It fails the commands in flight on the old master as "may or may not have
 * run" (one per send lane, a few worker calls): a slot map read during the switch lists the new master alone, and
 * ioredis drops its connection to the old one, whose paused commands had not run. Senders retry with their
 * idempotency key; workers keep their settlements for the next call.
 *
 * FAILOVER_KEEP_RECORDS=1 keeps the workers' record file and prints its path and the fault's times, for a timeline.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { Cluster } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { clusterTags } from '../../src/layers/redis/cluster-slots.js'
import { RedisKeys } from '../../src/layers/redis/keys.js'
import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import { consistentHash } from '../../src/layers/redis/shard.js'
import { redisServerBin, uniquePrefix } from '../redis/helpers.js'
import { startPrivateCluster, type ClusterNode, type RunningCluster } from '../setup/provision-cluster.js'
import { seededRandom, testSeed } from '../support/seeded-random.js'
import { isAlive, spawnProcess, type Spawned } from '../support/spawned.js'
import { sleep, waitFor } from '../support/wait.js'
import {
  replicaCaughtUp,
  replication,
  startGroupProbe,
  startSender,
  taskStates,
  workerLogs,
  type GroupProbe,
} from './failover-load.js'
import { claimTimes, firstOf, longestGap, readRecords, type RunRecord } from './failover-records.js'

const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))
const APP = fileURLToPath(new URL('./fixtures/cluster-worker-app.ts', import.meta.url))
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))
const CHANNEL = 'jobs'
const SHARDS = 12
const TASKS = 2_000
const TASK_MS = 5
const GROUP_PROBE_MS = 50
/** Concurrent senders: with `appendfsync always` one send at a time waits for a disk flush each (~10 ms here). */
const SEND_LANES = 4
/** Sends, each worker and group delivery must be back within this of the fault (a SIGKILL takes ~2-3 s to promote). */
const RECOVERY_BOUND_MS = 15_000
/** What the SIGKILL run's processes ask of each send and settlement: the surviving replica has it. */
const REPLICA_WAIT = { replicas: 1, timeoutMs: 1_000 } as const
const seed = testSeed(import.meta.url)

type Fault = 'CLUSTER FAILOVER' | 'SIGKILL'

function spawnWorker(nodes: readonly string[], prefix: string, recordFile: string, waitReplicas: boolean): Spawned {
  return spawnProcess(
    process.execPath,
    ['--import', 'tsx', CLI, 'worker', '--app', APP, '--concurrency', '4', CHANNEL],
    {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        CLUSTER_NODES: nodes.join(','),
        PREFIX: prefix,
        RECORD_FILE: recordFile,
        TASK_MS: String(TASK_MS),
        ...(waitReplicas
          ? { WAIT_REPLICAS: String(REPLICA_WAIT.replicas), WAIT_TIMEOUT_MS: String(REPLICA_WAIT.timeoutMs) }
          : {}),
        SWITCHYARD_LOG_LEVEL: 'warn',
      },
    },
  )
}

describe('a Redis Cluster failover under load', () => {
  let cluster: RunningCluster | undefined

  beforeAll(async () => {
    cluster = await startPrivateCluster(redisServerBin())
  })

  afterAll(async () => {
    await cluster?.stop()
  })

  function running(): RunningCluster {
    if (cluster === undefined) throw new Error('the cluster is not running')
    return cluster
  }

  /** The failover or kill of `master`; resolves when its replica is master (and, after a kill, it has rejoined). */
  async function injectFault(fault: Fault, master: ClusterNode, replica: ClusterNode) {
    const at = Date.now()
    if (fault === 'CLUSTER FAILOVER') {
      const promotedMs = await running().failover(replica)
      return { at, promotedAt: at + promotedMs, rejoinMs: 0 }
    }
    await running().kill(master, 'SIGKILL')
    await waitFor(
      'the replica to take over',
      async () => (await replication(replica).catch(() => undefined))?.get('role') === 'master',
      { timeoutMs: RECOVERY_BOUND_MS, intervalMs: 20 },
    )
    const promotedAt = Date.now()
    await running().restart(master)
    const rejoinMs = await running().waitHealthy(RECOVERY_BOUND_MS)
    expect(master.role).toBe('replica')
    return { at, promotedAt, rejoinMs }
  }

  async function failoverUnderLoad(fault: Fault): Promise<void> {
    const random = seededRandom(seed, fault)
    const faultAfter = 800 + random.int(400)
    const nodes = running().nodes.map((node) => node.url)
    const prefix = uniquePrefix()
    const tags = clusterTags(prefix, SHARDS)
    const tagOf = (name: string): string => tags[consistentHash(name, SHARDS)]!
    const master = await running().masterFor(tagOf(CHANNEL))
    const replica = running().replicaOf(master)
    // The group and its member on the same master as the task channel, so the fault cuts group delivery too.
    const nameOn = async (base: string): Promise<string> => {
      for (let k = 0; k < 100; k++)
        if ((await running().masterFor(tagOf(`${base}-${k}`))) === master) return `${base}-${k}`
      throw new Error(`no ${base}-<n> of 100 has its shard on master ${master.port}`)
    }
    const group = await nameOn('listeners')
    const member = await nameOn('listener')

    const dir = mkdtempSync(join(tmpdir(), 'swy-cluster-failover-'))
    const recordFile = join(dir, 'runs.log')
    const workers: Spawned[] = []
    const layerOptions = { cluster: { nodes, shards: SHARDS }, prefix }
    const waitReplicas = fault === 'SIGKILL'
    const sender = new RedisChannelLayer({
      ...layerOptions,
      ...(waitReplicas ? { waitForReplicas: REPLICA_WAIT } : {}),
      taskChannels: [CHANNEL],
      channelCapacity: { [CHANNEL]: 10_000 },
    })
    const listener = new RedisChannelLayer(layerOptions)
    const inspector = new Cluster([...running().startupNodes], { slotsRefreshInterval: 1_000 })
    inspector.on('error', () => undefined)
    let probe: GroupProbe | undefined
    try {
      const spawnedAt = Date.now()
      for (let i = 0; i < 2; i++) workers.push(spawnWorker(nodes, prefix, recordFile, waitReplicas))
      await Promise.all(workers.map((worker) => worker.waitForOutput(/serving channel jobs/, 30_000)))
      const workersReadyMs = Date.now() - spawnedAt
      await listener.groupAdd(group, member)
      await sender.groupSend(group, { type: 'failover.ping', n: -1 })
      expect(await listener.receive(member, { signal: AbortSignal.timeout(5_000) })).toMatchObject({ n: -1 })
      // The membership must be on the replica before the fault, or the test would measure replication, not recovery.
      await replicaCaughtUp(master, replica)
      probe = startGroupProbe(sender, listener, { group, member, intervalMs: GROUP_PROBE_MS })

      let faulted: ReturnType<typeof injectFault> | undefined
      const sendingAt = Date.now()
      const sends = startSender(sender, { channel: CHANNEL, tasks: TASKS, lanes: SEND_LANES }, (count) => {
        if (count < faultAfter || faulted !== undefined) return
        faulted = injectFault(fault, master, replica)
        // Awaited once the sends are done; until then a failure must not count as an unhandled rejection.
        faulted.catch(() => undefined)
      })
      await sends.done
      const sendingMs = Date.now() - sendingAt
      if (faulted === undefined) throw new Error('the sender never reached the fault')
      const { at: faultAt, promotedAt, rejoinMs } = await faulted
      if (process.env.FAILOVER_KEEP_RECORDS !== undefined) console.log(`faultAt=${faultAt} promotedAt=${promotedAt}`)
      const sentAtFault = sends.acknowledged.filter((id) => sends.resolved.get(id)! <= faultAt).length
      const firstAfter = sends.acknowledged.find((id) => sends.began.get(id)! > faultAt)
      const firstSendMs = firstAfter === undefined ? Infinity : sends.resolved.get(firstAfter)! - faultAt

      // Every worker runs a task sent after the promotion: it follows the new master by itself. Probe tasks keep
      // coming in case the backlog drained before a slower worker was back.
      const ranAfter = (worker: Spawned): RunRecord | undefined =>
        readRecords(recordFile).find(
          (run) => run.kind === 'start' && run.pid === worker.pid && (sends.began.get(run.taskId) ?? 0) > promotedAt,
        )
      let probes = 0
      await waitFor(
        'every worker to run a task sent after the promotion',
        async () => {
          if (workers.every((worker) => ranAfter(worker) !== undefined)) return true
          const id = `probe-${probes++}`
          sends.began.set(id, Date.now())
          await sender.send(CHANNEL, { type: 'job.run', idempotencyKey: id })
          return false
        },
        { timeoutMs: RECOVERY_BOUND_MS, intervalMs: 100 },
      ).catch((error: unknown) => {
        const detail = workers.map((worker) => `worker ${worker.pid} stderr: ${worker.output().stderr.slice(-3_000)}`)
        throw new Error(`${(error as Error).message}\n${detail.join('\n')}`, { cause: error })
      })
      const newWork = workers.map((worker) => ranAfter(worker)!.at - faultAt)
      // Back: a worker runs a task it claimed in a call begun after the fault, which only the new master can answer
      // (what it ran meanwhile may have been claimed, and prefetched, before).
      const workersBack = workers.map((worker) => {
        const records = readRecords(recordFile).filter((run) => run.pid === worker.pid && run.at > faultAt)
        const claimedAfter = new Set(records.filter((run) => run.kind === 'claimed').map((run) => run.taskId))
        const first = records.find((run) => run.kind === 'start' && claimedAfter.has(run.taskId))
        return (first?.at ?? Infinity) - faultAt
      })

      // Drained: nothing queued, claimed or waiting to retry (claims cut by the fault come back after their deadline).
      const keys = new RedisKeys(`{${tagOf(CHANNEL)}}`)
      const drainMs = await waitFor(
        'the task channel to drain',
        async () => {
          const counts = await Promise.all(
            [keys.queue(CHANNEL), keys.inflight(CHANNEL), keys.delayed(CHANNEL)].map((key) => inspector.zcard(key)),
          )
          return counts.every((count) => count === 0)
        },
        { timeoutMs: 30_000, intervalMs: 200 },
      )
      await probe.stop()
      const groupGap = longestGap(probe.receipts, faultAt)
      const groupBack = (probe.receipts.find((at) => at > promotedAt) ?? Infinity) - faultAt

      const states = await taskStates(sender, sends.acknowledged)
      const lost = sends.acknowledged.filter((_, i) => states[i]?.status !== 'succeeded')
      const records = readRecords(recordFile)
      const finalSuccess = new Map(
        states.flatMap((state) => (state?.status === 'succeeded' ? [[state.taskId, state.updatedAt] as const] : [])),
      )
      const starts = records.filter((run) => run.kind === 'start')
      const confirmed = firstOf(records, 'acked')
      // A run after the task's success: one whose claim began once the success that stuck (the state's) was confirmed
      // to its worker, or, without a recorded claim, one that started after that success. A copy claimed just before
      // it (its first run's claim lapsed in the failover and was recovered while that run went on) may start just
      // after it: at-least-once. Redis answers a claim it gets after the success with the copy skipped, unrecorded.
      const acks = new Map<string, number[]>()
      for (const run of records)
        if (run.kind === 'acked') acks.set(run.taskId, [...(acks.get(run.taskId) ?? []), run.at])
      const successConfirmed = (taskId: string): number => {
        const success = finalSuccess.get(taskId) ?? Infinity
        return acks.get(taskId)?.find((at) => at >= success) ?? success
      }
      const claimedAt = claimTimes(records)
      const runsAfterFinalSuccess = starts.filter((run) => {
        const claimed = claimedAt.get(run)
        return claimed === undefined
          ? run.at > (finalSuccess.get(run.taskId) ?? Infinity)
          : claimed > successConfirmed(run.taskId)
      })
      // A claim whose call began after the task's success was confirmed: Redis forgot it (a claim made just before
      // the ack may start running after it; that is at-least-once, not this).
      const claimsAfterSuccess = records.filter(
        (run) => run.kind === 'claimed' && run.at > (confirmed.get(run.taskId) ?? Infinity),
      )
      const doneCounts = new Map<string, number>()
      for (const run of records)
        if (run.kind === 'done') doneCounts.set(run.taskId, (doneCounts.get(run.taskId) ?? 0) + 1)
      const doneTwice = [...doneCounts.values()].filter((count) => count > 1)
      const retried = [...sends.failures.values()].reduce((sum, count) => sum + count, 0)
      console.log(
        `[cluster failover] ${fault} of master ${master.port} (shard of ${CHANNEL}, ${group} and ${member}) after ` +
          `${sentAtFault} of ${TASKS} sends (seed ${seed}): replica ${replica.port} master after ` +
          `${promotedAt - faultAt} ms; first send begun after the fault resolved after ${firstSendMs} ms; group ` +
          `delivery: longest gap ${groupGap} ms, first receipt after the promotion ${groupBack} ms after the fault ` +
          `(${probe.sendFailures} group sends failed); workers back (first run of a task claimed after the fault) after ` +
          `${workersBack.join(' and ')} ms, first run of a task sent after the promotion ${newWork.join(' and ')} ms ` +
          `(${probes} probe tasks); drained ${drainMs} ms later` +
          (fault === 'SIGKILL' ? `; killed master rejoined as a replica, healthy after ${rejoinMs} ms` : '') +
          `. Sends retried: ${retried} (${[...sends.failures].map(([kind, n]) => `${n}x ${kind}`).join(' | ')}). ` +
          `waitForReplicas: ${waitReplicas ? `${REPLICA_WAIT.replicas} within ${REPLICA_WAIT.timeoutMs} ms` : 'off'}. ` +
          `Lost: ${lost.length}${lost.length > 0 ? ` (${lost.slice(0, 10).join(', ')})` : ''}; runs after the final ` +
          `success: ${runsAfterFinalSuccess.length}; claims after a confirmed success: ${claimsAfterSuccess.length}; ` +
          `tasks done twice (at-least-once, before success was confirmed): ` +
          `${doneTwice.length}; ${starts.length} runs in all. Workers ready in ${workersReadyMs} ms, ${TASKS} sends ` +
          `took ${sendingMs} ms; worker logs: ${workerLogs(workers)}`,
      )

      expect(confirmed.size).toBeGreaterThan(TASKS / 2)
      for (const worker of workers) {
        expect(isAlive(worker.pid), worker.output().stderr).toBe(true)
        expect(worker.output().stderr).not.toMatch(/MaxListenersExceededWarning/)
      }
      // Nothing is lost or run again after its success.
      expect(lost).toEqual([])
      expect(runsAfterFinalSuccess).toEqual([])
      expect(claimsAfterSuccess).toEqual([])
      // Only the failover window refuses sends: RedisUnavailableError, nothing else.
      for (const kind of sends.failures.keys()) expect(kind).toMatch(/^RedisUnavailableError: /)
      expect(firstSendMs).toBeLessThan(RECOVERY_BOUND_MS)
      for (const ms of [...workersBack, ...newWork]) expect(ms).toBeLessThan(RECOVERY_BOUND_MS)
      expect(groupGap).toBeLessThan(RECOVERY_BOUND_MS)
      expect(groupBack).toBeLessThan(RECOVERY_BOUND_MS)
    } finally {
      for (const worker of workers) worker.kill()
      await probe?.stop()
      inspector.disconnect()
      await Promise.all([sender.close(), listener.close()])
      if (process.env.FAILOVER_KEEP_RECORDS === undefined) rmSync(dir, { recursive: true, force: true })
      else console.log(`records kept in ${recordFile}`)
    }
    await running().waitHealthy()
  }

  it('CLUSTER FAILOVER of the task shard’s master: nothing lost, nothing run after success, all back by itself', async () => {
    await failoverUnderLoad('CLUSTER FAILOVER')
  }, 90_000)

  it('SIGKILL of the task shard’s master: nothing lost, nothing run after success, all back by itself', async () => {
    await failoverUnderLoad('SIGKILL')
  }, 90_000)

  it('moves a blocked receive off a frozen master once its replica takes over', async () => {
    const nodes = running().nodes.map((node) => node.url)
    const prefix = uniquePrefix()
    const receiver = new RedisChannelLayer({ cluster: { nodes }, prefix })
    const master = await running().masterFor(clusterTags(prefix, SHARDS)[consistentHash(CHANNEL, SHARDS)]!)
    const replica = running().replicaOf(master)
    let sender: RedisChannelLayer | undefined
    try {
      await receiver.ready()
      // Settled either way, so that a failure below leaves no rejection unhandled when the layer closes.
      const received = receiver.receive(CHANNEL).catch((error: unknown) => ({ error }))
      // The receive's blocking read is on the master by now.
      await sleep(300)
      const frozenAt = Date.now()
      // Frozen, not killed: its connections stay open and it answers nothing, as behind a partition that sends no
      // reset. The read would wait there for ever, never following the failover.
      await running().kill(master, 'SIGSTOP')
      await waitFor(
        'the replica to take over',
        async () => (await replication(replica).catch(() => undefined))?.get('role') === 'master',
        { timeoutMs: RECOVERY_BOUND_MS, intervalMs: 50 },
      )
      // A sender that knows the new slot map (an old one's command would wait on the frozen master as well), and
      // retries while the cluster settles (its client may try the frozen node first).
      sender = new RedisChannelLayer({ cluster: { nodes }, prefix, retryWindowMs: RECOVERY_BOUND_MS })
      await sender.ready(RECOVERY_BOUND_MS)
      await sender.send(CHANNEL, { type: 'job.run', after: 'failover' })
      const outcome = await Promise.race([received, sleep(RECOVERY_BOUND_MS).then(() => 'timed out' as const)])
      expect(outcome).toEqual({ type: 'job.run', after: 'failover' })
      const backMs = Date.now() - frozenAt
      console.log(`[frozen master] the receive came back ${backMs} ms after the freeze`)
      expect(backMs).toBeLessThan(RECOVERY_BOUND_MS)
    } finally {
      await running().kill(master, 'SIGCONT')
      await Promise.all([receiver.close(), sender?.close()])
      await running().waitHealthy()
    }
  }, 60_000)

  it('closes at once while the master of some shards is gone and nothing takes over', async () => {
    const nodes = running().nodes.map((node) => node.url)
    const prefix = uniquePrefix()
    // A long retry window: a heartbeat or a deregistration waiting for the gone master would hold close() that long.
    const layer = new RedisChannelLayer({
      cluster: { nodes },
      prefix,
      retryWindowMs: 10_000,
      heartbeatIntervalMs: 100,
      staleAfterMs: 1_000,
    })
    await layer.newChannel()
    await layer.ready()
    const master = await running().masterFor(clusterTags(prefix, SHARDS)[0]!)
    const replica = running().replicaOf(master)
    try {
      // Its replica first, so that nothing takes over: the master's slots have no master at all.
      await running().kill(replica, 'SIGKILL')
      await running().kill(master, 'SIGKILL')
      const errorsBefore = layer.stats().redisErrors
      await waitFor('the layer to see the master gone', () => layer.stats().redisErrors > errorsBefore)
      // Heartbeats come every 100 ms: those started since wait for the slot's master.
      await sleep(500)
      const closedAt = Date.now()
      await layer.close()
      expect(Date.now() - closedAt).toBeLessThan(1_500)
    } finally {
      await layer.close()
      await running().restart(master)
      await running().restart(replica)
      await running().waitHealthy()
    }
  }, 60_000)
})
