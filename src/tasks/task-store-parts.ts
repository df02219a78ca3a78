import type { DeadLetter, DeadLetterStore } from './dead-letter-store.js'
import type { ProcessRegistry, ServerReport, ServerSnapshot, WorkerReport, WorkerSnapshot } from './process-registry.js'

/**
 * The part of a `TaskStore` that is not its queue, handed to the two objects that hold it: its dead letters and its
 * process registry. A store that keeps them apart extends this and implements the queue (`TaskQueue`) itself, so
 * the delegation is written once for every backend.
 *
 * @example
 * ```ts
 * class MyTaskStore extends TaskStoreParts implements TaskStore {
 *   protected readonly deadLetters = new MyDeadLetters()
 *   protected readonly registry = new MyRegistry()
 *   // claim, ack, retry, bury, settle, ...
 * }
 * ```
 */
export abstract class TaskStoreParts implements DeadLetterStore, ProcessRegistry {
  protected abstract readonly deadLetters: DeadLetterStore
  protected abstract readonly registry: ProcessRegistry

  listDeadLetters(channel: string, options?: { readonly limit?: number }): Promise<DeadLetter[]> {
    return this.deadLetters.listDeadLetters(channel, options)
  }

  getDeadLetter(channel: string, id: string): Promise<DeadLetter | undefined> {
    return this.deadLetters.getDeadLetter(channel, id)
  }

  replayDeadLetters(channel: string, ids?: readonly string[]): Promise<number> {
    return this.deadLetters.replayDeadLetters(channel, ids)
  }

  purgeDeadLetters(
    channel: string,
    options?: { readonly olderThanMs?: number; readonly dryRun?: boolean },
  ): Promise<number> {
    return this.deadLetters.purgeDeadLetters(channel, options)
  }

  deadLetterChannels(): Promise<string[]> {
    return this.deadLetters.deadLetterChannels()
  }

  reportWorker(report: WorkerReport): Promise<void> {
    return this.registry.reportWorker(report)
  }

  listWorkers(): Promise<WorkerSnapshot[]> {
    return this.registry.listWorkers()
  }

  forgetWorker(id: string): Promise<void> {
    return this.registry.forgetWorker(id)
  }

  reportServer(report: ServerReport): Promise<void> {
    return this.registry.reportServer(report)
  }

  listServers(): Promise<ServerSnapshot[]> {
    return this.registry.listServers()
  }

  forgetServer(id: string): Promise<void> {
    return this.registry.forgetServer(id)
  }
}
