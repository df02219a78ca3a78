// The worker and server registries (monitoring): one hash per kind, entries as JSON, read on every shard.
import type { RedisShard } from '../redis-shard.js'
import { runWorkers } from '../scripts/task-scripts.js'
import type { ServerSnapshot, WorkerSnapshot } from '../../snapshot.js'
import {
  serverSnapshot,
  WORKER_FORGET_AFTER_MS,
  workerSnapshot,
  type ProcessRegistry,
  type ServerReport,
  type WorkerReport,
} from '../../../tasks/task-store.js'

/** A registry entry, or undefined when it is not one (written by something else): it is then skipped. */
export interface RegistryEntry {
  /** A WorkerReport or a ServerReport, as its writer stored it. */
  readonly report: { readonly id: string }
  readonly beatAt: number
}

export function parseRegistryEntry(json: string): RegistryEntry | undefined {
  try {
    const parsed = JSON.parse(json) as { report?: { id?: unknown }; beatAt?: unknown }
    const report = parsed.report
    if (typeof parsed.beatAt !== 'number' || typeof report !== 'object' || typeof report.id !== 'string') {
      return undefined
    }
    return { report: { ...report, id: report.id }, beatAt: parsed.beatAt }
  } catch {
    return undefined
  }
}

/** Which registry: of workers or of servers (`RedisKeys.workers`, `RedisKeys.servers`, on every shard). */
type Registry = 'workers' | 'servers'

/** A registry's entries on every shard (dropping those older than an hour), one per id, sorted by id. */
export async function readRegistry(shards: readonly RedisShard[], registry: Registry): Promise<RegistryEntry[]> {
  const entries = new Map<string, RegistryEntry>()
  for (const shard of shards) {
    const found = await shard.call(
      (client) => runWorkers(client, { registry: shard.keys[registry], cutoffMs: Date.now() - WORKER_FORGET_AFTER_MS }),
      { idempotent: true },
    )
    for (const [, json] of found) {
      const entry = parseRegistryEntry(json)
      if (entry !== undefined) entries.set(entry.report.id, entry)
    }
  }
  return [...entries.values()].sort((a, b) => (a.report.id < b.report.id ? -1 : a.report.id > b.report.id ? 1 : 0))
}

export async function forgetEntry(shards: readonly RedisShard[], registry: Registry, id: string): Promise<void> {
  for (const shard of shards) {
    await shard.call((client) => client.hdel(shard.keys[registry], id), { idempotent: true })
  }
}

/** The registries of live workers and servers on Redis, as the Redis task store reports and reads them. */
export class RedisProcessRegistry implements ProcessRegistry {
  constructor(
    private readonly ctx: {
      /** Throws `LayerClosedError` once the layer is closed. */
      assertOpen(operation: string): void
      readonly shards: readonly RedisShard[]
      shardFor(channel: string): RedisShard
    },
  ) {}

  async reportWorker(report: WorkerReport): Promise<void> {
    this.ctx.assertOpen('report a worker')
    const entry = JSON.stringify({ report, beatAt: Date.now() })
    const shard = this.ctx.shardFor(report.channel)
    await shard.call((client) => client.hset(shard.keys.workers, report.id, entry), { idempotent: true })
  }

  async listWorkers(): Promise<WorkerSnapshot[]> {
    this.ctx.assertOpen('list workers')
    return this.list('workers', (report, beatAt, now) => workerSnapshot(report as WorkerReport, beatAt, now))
  }

  async forgetWorker(id: string): Promise<void> {
    this.ctx.assertOpen('forget a worker')
    await forgetEntry(this.ctx.shards, 'workers', id)
  }

  async reportServer(report: ServerReport): Promise<void> {
    this.ctx.assertOpen('report a server')
    const entry = JSON.stringify({ report, beatAt: Date.now() })
    // Any shard will do: listServers reads them all. The first keeps one process's entry in one place.
    const shard = this.ctx.shards[0]
    await shard?.call((client) => client.hset(shard.keys.servers, report.id, entry), { idempotent: true })
  }

  async listServers(): Promise<ServerSnapshot[]> {
    this.ctx.assertOpen('list servers')
    return this.list('servers', (report, beatAt, now) => serverSnapshot(report as ServerReport, beatAt, now))
  }

  async forgetServer(id: string): Promise<void> {
    this.ctx.assertOpen('forget a server')
    await forgetEntry(this.ctx.shards, 'servers', id)
  }

  private async list<T>(
    registry: Registry,
    snapshot: (report: RegistryEntry['report'], beatAt: number, now: number) => T,
  ): Promise<T[]> {
    const entries = await readRegistry(this.ctx.shards, registry)
    const now = Date.now()
    return entries.map(({ report, beatAt }) => snapshot(report, beatAt, now))
  }
}
