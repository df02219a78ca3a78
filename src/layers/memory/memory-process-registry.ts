import type { ServerSnapshot, WorkerSnapshot } from '../snapshot.js'
import {
  type ProcessRegistry,
  type ServerReport,
  serverSnapshot,
  type WorkerReport,
  workerSnapshot,
} from '../../tasks/task-store.js'
import { MemoryRegistry } from './memory-registry.js'

/**
 * The in-memory layer's `ProcessRegistry`: the workers and servers of this one process, each as it last reported
 * itself. Part of its task store (`layer.tasks`), which checks the layer is open on every call (`begin`).
 *
 * @example
 * ```ts
 * const registry = new MemoryProcessRegistry((operation) => layer.assertOpen(operation))
 * await registry.reportWorker(report)
 * await registry.listWorkers() // [{ ...report, heartbeatAgeMs: 0, alive: true }] (without renewalMs)
 * ```
 */
export class MemoryProcessRegistry implements ProcessRegistry {
  private readonly workers = new MemoryRegistry<WorkerReport>()
  private readonly servers = new MemoryRegistry<ServerReport>()

  /** `begin(operation)` throws once the layer is closed, and returns now. */
  constructor(private readonly begin: (operation: string) => number) {}

  async reportWorker(report: WorkerReport): Promise<void> {
    this.begin('report a worker')
    this.workers.report(report)
  }

  async listWorkers(): Promise<WorkerSnapshot[]> {
    return this.workers.list(this.begin('list workers'), workerSnapshot)
  }

  async forgetWorker(id: string): Promise<void> {
    this.begin('forget a worker')
    this.workers.forget(id)
  }

  async reportServer(report: ServerReport): Promise<void> {
    this.begin('report a server')
    this.servers.report(report)
  }

  async listServers(): Promise<ServerSnapshot[]> {
    return this.servers.list(this.begin('list servers'), serverSnapshot)
  }

  async forgetServer(id: string): Promise<void> {
    this.begin('forget a server')
    this.servers.forget(id)
  }

  clear(): void {
    this.workers.clear()
    this.servers.clear()
  }
}
