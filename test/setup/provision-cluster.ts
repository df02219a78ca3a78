import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'

import { roleOf, unhealthyReason, viewOf, type ClusterRole } from './cluster-topology.js'
import {
  APT_INSTALL_COMMAND,
  findOnPath,
  freeLoopbackPort,
  rawCommand,
  RedisStartError,
  startRedisServer,
  type RunningRedis,
} from './provision-redis.js'

/** redis-cli comes from redis-tools, which Debian's redis-server package depends on. */
export const REDIS_TOOLS_INSTALL_COMMAND = 'apt-get install -y redis-tools'

const MASTERS = 3
const START_ATTEMPTS = 3
const PROBE_TIMEOUT_MS = 1_000
/** Redis' CLUSTER_MF_TIMEOUT: a manual failover not done by then is abandoned. */
const MANUAL_FAILOVER_GIVEN_UP_MS = 5_500

export type { ClusterRole }

export interface StartClusterOptions {
  /**
   * `cluster-node-timeout`: how long a master may be unreachable before its replica takes over. Short so failover
   * tests take seconds; a SIGKILLed master is replaced after roughly 1-3 times this.
   * @defaultValue 1000
   */
  nodeTimeoutMs?: number
  /** How long startup may take until every node agrees the cluster is healthy. @defaultValue 30000 */
  startupTimeoutMs?: number
}

const DEFAULT_CLUSTER_OPTIONS = { nodeTimeoutMs: 1_000, startupTimeoutMs: 30_000 } as const

export type NodeState = 'running' | 'paused' | 'stopped'

export interface ClusterNode {
  readonly url: string
  readonly port: number
  /** The cluster bus port, picked like `port` (port + 10000 may be taken or above 65535). */
  readonly busPort: number
  /** The node's id, stable across restarts because its `nodes.conf` survives them. */
  readonly id: string
  /** As the node itself said at the last health check or failover. */
  readonly role: ClusterRole
  /** For a replica, the id of its master. */
  readonly masterId: string | undefined
  readonly pid: number
  readonly state: NodeState
}

export type ClusterSignal = 'SIGKILL' | 'SIGTERM' | 'SIGSTOP' | 'SIGCONT'

export interface RunningCluster {
  readonly nodes: readonly ClusterNode[]
  /** Seed nodes for ioredis' `new Cluster(startupNodes)`: every node, as one would configure production. */
  readonly startupNodes: readonly { host: string; port: number }[]
  /** Running masters, as of the last health check or failover. */
  masters(): ClusterNode[]
  /** The running replica of `master`; throws when it has none. */
  replicaOf(master: ClusterNode): ClusterNode
  /** The master serving `key`'s slot (`CLUSTER KEYSLOT`), as of the last health check or failover. */
  masterFor(key: string): Promise<ClusterNode>
  /**
   * SIGKILL and SIGTERM resolve once the process has exited; SIGSTOP pauses it (a hung host: sockets stay open
   * and nothing answers) until SIGCONT.
   */
  kill(node: ClusterNode, signal?: ClusterSignal): Promise<void>
  /** Starts a stopped node again on its ports with its data and `nodes.conf`; call waitHealthy() after. */
  restart(node: ClusterNode): Promise<void>
  /** `CLUSTER FAILOVER [mode]` on `replica`, then waits until it and its old master agree; returns the ms taken. */
  failover(replica: ClusterNode, mode?: 'FORCE' | 'TAKEOVER'): Promise<number>
  /**
   * Waits until every running node reports `cluster_state:ok` with all 16384 slots served, the running nodes agree
   * on roles and see no running node as failing, every running replica's link is up, and (with all nodes
   * running) each master has a replica. Returns the ms taken.
   */
  waitHealthy(timeoutMs?: number): Promise<number>
  /** SIGKILLs every node (test data needs no clean shutdown) and removes the data directory. Idempotent. */
  stop(): Promise<void>
}

interface MutableNode {
  url: string
  port: number
  busPort: number
  dir: string
  id: string
  role: ClusterRole
  masterId: string | undefined
  pid: number
  state: NodeState
  server: RunningRedis | undefined
}

/** redis-cli next to redis-server (same package family), else on PATH; throws what to install when missing. */
export function locateRedisCli(serverBin: string, pathVar: string | undefined = process.env.PATH): string {
  const beside = serverBin ? findOnPath('redis-cli', dirname(serverBin)) : undefined
  const found = beside ?? findOnPath('redis-cli', pathVar)
  if (found === undefined) {
    throw new Error(
      'A Redis Cluster is needed, and redis-cli (which creates it) is neither next to redis-server nor on PATH. ' +
        `Install it with \`sudo ${REDIS_TOOLS_INSTALL_COMMAND}\`.`,
    )
  }
  return found
}

function resolveOptions(options: StartClusterOptions): Required<StartClusterOptions> {
  const resolved = { ...DEFAULT_CLUSTER_OPTIONS, ...options }
  for (const name of ['nodeTimeoutMs', 'startupTimeoutMs'] as const) {
    const value = resolved[name]
    if (!Number.isInteger(value) || value <= 0)
      throw new TypeError(`Expected \`${name}\` to be a positive integer, got ${String(value)}`)
  }
  return Object.freeze(resolved)
}

/**
 * Starts a Redis Cluster of 3 masters and 3 replicas on loopback, owned by the calling test (issue 18: the layer's
 * cluster mode is tested against a real one). Pass `inject('redisServerBin')`, as for startPrivateRedis.
 * Each node has AOF with `appendfsync always` (issue 18), so a node restarted after SIGKILL comes back with every write
 * it acknowledged; what its replica had not received when it took over is lost, unless the writer WAITed for it.
 */
export async function startPrivateCluster(bin: string, options: StartClusterOptions = {}): Promise<RunningCluster> {
  const { nodeTimeoutMs, startupTimeoutMs } = resolveOptions(options)
  const serverBin = bin || findOnPath('redis-server')
  if (!serverBin) {
    throw new Error(
      `A Redis Cluster is needed but no redis-server is on PATH. Install it with \`sudo ${APT_INSTALL_COMMAND}\`.`,
    )
  }
  const cli = locateRedisCli(serverBin)
  const root = await mkdtemp(join(tmpdir(), 'swy-cluster-'))
  const nodes: MutableNode[] = []
  const cluster = new ClusterHandle(serverBin, root, nodeTimeoutMs, nodes)
  try {
    const started = await Promise.allSettled(
      Array.from({ length: MASTERS * 2 }, async (_, index) => {
        const dir = join(root, `node-${index}`)
        await mkdir(dir)
        return startNode(serverBin, dir, nodeTimeoutMs)
      }),
    )
    // Every node that did start is kept, so the stop() below also ends it when another failed.
    for (const result of started) if (result.status === 'fulfilled') nodes.push(result.value)
    const failed = started.find((result) => result.status === 'rejected')
    if (failed) throw failed.reason
    await createCluster(
      cli,
      nodes.map((node) => node.port),
    )
    await cluster.waitHealthy(startupTimeoutMs)
  } catch (error) {
    await cluster.stop()
    throw error
  }
  return cluster
}

/** Both ports are picked free; a node that fails to bind gets a fresh pair, as startRedisServer does for one port. */
async function startNode(bin: string, dir: string, nodeTimeoutMs: number): Promise<MutableNode> {
  for (let attempt = 1; ; attempt++) {
    const port = await freeLoopbackPort()
    const busPort = await freeLoopbackPort()
    if (busPort === port) continue
    try {
      const server = await launch(bin, { dir, port, busPort }, nodeTimeoutMs)
      // id and role are filled in by the first health check, once the cluster has been created.
      return {
        url: server.url,
        port,
        busPort,
        dir,
        id: '',
        role: 'master',
        masterId: undefined,
        pid: server.pid,
        state: 'running',
        server,
      }
    } catch (error) {
      if (attempt >= START_ATTEMPTS || !(error instanceof RedisStartError) || !error.retryable) throw error
    }
  }
}

/** The last lines of a node's log, for an error that says what the node did. */
async function logTail(dir: string): Promise<string> {
  const text = await readFile(join(dir, 'redis.log'), 'utf8').catch(() => '')
  return text.split('\n').slice(-25).join('\n')
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

function signalIfAlive(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error
  }
}

function launch(
  bin: string,
  { dir, port, busPort }: { dir: string; port: number; busPort: number },
  nodeTimeoutMs: number,
): Promise<RunningRedis> {
  return startRedisServer({
    bin,
    port,
    extraArgs: [
      ...['--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--logfile', join(dir, 'redis.log')],
      ...['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf')],
      ...['--cluster-port', String(busPort), '--cluster-node-timeout', String(nodeTimeoutMs)],
      // A replica whose link has been down a while still takes over: tests want availability, not the freshest data.
      ...['--cluster-replica-validity-factor', '0'],
      // Redis 7 waits 5 s before a diskless full sync to batch replicas; nothing here benefits from waiting.
      ...['--repl-diskless-sync-delay', '0'],
    ],
  })
}

function createCluster(cli: string, ports: readonly number[]): Promise<void> {
  const addresses = ports.map((port) => `127.0.0.1:${port}`)
  const args = ['--cluster', 'create', ...addresses, '--cluster-replicas', '1', '--cluster-yes']
  return new Promise((resolve, reject) => {
    execFile(cli, args, { timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`\`redis-cli ${args.join(' ')}\` failed:\n${stdout}${stderr}`, { cause: error }))
      else resolve()
    })
  })
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

class ClusterHandle implements RunningCluster {
  private stopping: Promise<void> | undefined

  constructor(
    private readonly bin: string,
    private readonly root: string,
    private readonly nodeTimeoutMs: number,
    readonly nodes: MutableNode[],
  ) {}

  get startupNodes(): { host: string; port: number }[] {
    return this.nodes.map((node) => ({ host: '127.0.0.1', port: node.port }))
  }

  masters(): MutableNode[] {
    return this.nodes.filter((node) => node.state === 'running' && node.role === 'master')
  }

  replicaOf(master: ClusterNode): ClusterNode {
    const replica = this.nodes.find((node) => node.state === 'running' && node.masterId === master.id)
    if (replica === undefined) throw new Error(`master ${master.port} has no running replica`)
    return replica
  }

  async masterFor(key: string): Promise<ClusterNode> {
    const asked = this.running()[0]
    if (asked === undefined) throw new Error('no node is running to ask for the slot of a key')
    const slot = Number(await rawCommand(asked.port, ['CLUSTER', 'KEYSLOT', key], PROBE_TIMEOUT_MS))
    const views = await Promise.all(this.masters().map(viewOf))
    const owner = views.find((view) => view.myself.slots.some(([start, end]) => start <= slot && slot <= end))
    if (owner === undefined) throw new Error(`no running master serves slot ${slot} (key ${JSON.stringify(key)})`)
    return owner.node
  }

  async kill(target: ClusterNode, signal: ClusterSignal = 'SIGKILL'): Promise<void> {
    const node = this.own(target)
    if (node.state === 'stopped' || node.server === undefined) throw new Error(`node ${node.port} is not running`)
    if (signal === 'SIGSTOP' || signal === 'SIGCONT') {
      process.kill(node.pid, signal)
      node.state = signal === 'SIGSTOP' ? 'paused' : 'running'
      return
    }
    // A paused process cannot act on SIGTERM; let it run again first.
    // Gone already (it crashed: its log says why): stop() below still waits for its exit.
    if (node.state === 'paused') signalIfAlive(node.pid, 'SIGCONT')
    if (signal === 'SIGKILL') signalIfAlive(node.pid, 'SIGKILL')
    // stop() sends SIGTERM unless the process is gone already, and resolves once it has exited.
    await node.server.stop()
    node.server = undefined
    node.state = 'stopped'
  }

  async restart(target: ClusterNode): Promise<void> {
    const node = this.own(target)
    if (node.state !== 'stopped') throw new Error(`node ${node.port} is ${node.state}; kill it before a restart`)
    node.server = await launch(this.bin, node, this.nodeTimeoutMs)
    node.pid = node.server.pid
    node.state = 'running'
  }

  async failover(target: ClusterNode, mode?: 'FORCE' | 'TAKEOVER'): Promise<number> {
    const replica = this.own(target)
    const oldMaster = this.nodes.find((node) => node.id === replica.masterId)
    if (replica.role !== 'replica' || oldMaster === undefined) throw new Error(`node ${replica.port} is no replica`)
    const start = Date.now()
    const command = ['CLUSTER', 'FAILOVER', ...(mode ? [mode] : [])]
    await rawCommand(replica.port, command, PROBE_TIMEOUT_MS)
    let sentAt = start
    const deadline = start + Math.max(20_000, 10 * this.nodeTimeoutMs)
    for (;;) {
      const promoted = await viewOf(replica).catch(() => undefined)
      const demoted = oldMaster.state === 'running' ? await viewOf(oldMaster).catch(() => undefined) : undefined
      const done =
        promoted !== undefined &&
        roleOf(promoted.myself) === 'master' &&
        (oldMaster.state !== 'running' || demoted?.myself.masterId === replica.id)
      if (done) break
      if (Date.now() > deadline) {
        const logs = await Promise.all([replica, oldMaster].map((node) => logTail(node.dir)))
        const gone = this.running().filter((node) => !isAlive(node.pid))
        throw new Error(
          `node ${replica.port} was not master within ${deadline - start} ms; nodes whose process is gone: ` +
            `${gone.map((node) => node.port).join(', ') || 'none'}; its log:\n${logs[0]}\nits master's:\n${logs[1]}`,
        )
      }
      // Redis gives up a manual failover after 5 s (a replica that cannot catch up with a loaded master meanwhile):
      // ask again, as an operator would.
      if (
        Date.now() - sentAt > MANUAL_FAILOVER_GIVEN_UP_MS &&
        promoted !== undefined &&
        roleOf(promoted.myself) !== 'master'
      ) {
        await rawCommand(replica.port, command, PROBE_TIMEOUT_MS).catch(() => undefined)
        sentAt = Date.now()
      }
      await sleep(20)
    }
    const elapsed = Date.now() - start
    Object.assign(replica, { role: 'master', masterId: undefined })
    if (oldMaster.state === 'running') Object.assign(oldMaster, { role: 'replica', masterId: replica.id })
    return elapsed
  }

  async waitHealthy(timeoutMs = 30_000): Promise<number> {
    const start = Date.now()
    let reason: string
    for (;;) {
      try {
        const views = await Promise.all(this.running().map(viewOf))
        const found = unhealthyReason(views, views.length === this.nodes.length, MASTERS)
        if (found === undefined) {
          for (const { node, myself } of views) {
            Object.assign(node, { id: myself.id, role: roleOf(myself), masterId: myself.masterId })
          }
          return Date.now() - start
        }
        reason = found
      } catch (error) {
        reason = error instanceof Error ? error.message : String(error)
      }
      if (Date.now() - start > timeoutMs)
        throw new Error(`the cluster was not healthy within ${timeoutMs} ms; last seen: ${reason}`)
      await sleep(50)
    }
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await Promise.all(
        this.nodes.map(async (node) => {
          if (node.state !== 'stopped') await this.kill(node, 'SIGKILL')
        }),
      )
      await rm(this.root, { recursive: true, force: true })
    })()
    return this.stopping
  }

  private running(): MutableNode[] {
    return this.nodes.filter((node) => node.state === 'running')
  }

  /** The caller's node as ours, so a node of another cluster is refused instead of quietly mismatched. */
  private own(target: ClusterNode): MutableNode {
    const node = this.nodes.find((candidate) => candidate === target)
    if (node === undefined) throw new Error(`node ${target.port} is not part of this cluster`)
    return node
  }
}
