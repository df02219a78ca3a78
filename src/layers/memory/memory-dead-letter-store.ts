import { randomUUID } from 'node:crypto'

import { DropReporter } from '../../drop-reporter.js'
import type { Logger } from '../../logger.js'
import type { DeadLetter, DeadLetterStore, TaskStoreOptions } from '../../tasks/task-store.js'
import { DeadLetters } from './dead-letters.js'

const DEAD_LETTER_DROPS = Object.freeze({ field: 'channel', message: 'dead letters over capacity: oldest dropped' })

/** What the task store lends its dead letters. */
export interface DeadLetterHooks {
  /** Throws once the layer is closed, purges what retention expired, and returns now. */
  begin(operation: string): number
  /** Puts a replayed letter's task back at the tail of its channel as a fresh task (attempts and failures reset). */
  revive(letter: DeadLetter): void
}

/**
 * The in-memory layer's `DeadLetterStore`: dead tasks per channel (`DeadLetters`), bounded by `deadLetterCapacity`
 * (drops counted and logged at most once per interval) and kept `deadLetterRetentionMs`. Part of its task store
 * (`layer.tasks`), which buries tasks here and revives the replayed ones; `TaskStoreParts` checks the arguments.
 *
 * @example
 * ```ts
 * const letters = new MemoryDeadLetterStore(options, logger, { begin, revive })
 * letters.add({ channel: 'jobs', taskId, message, error: 'boom', attempts: 3, firstAttemptAt, diedAt: Date.now() })
 * await letters.replayDeadLetters('jobs') // 1
 * ```
 */
export class MemoryDeadLetterStore implements DeadLetterStore {
  private readonly shelf: DeadLetters
  private dropped = 0

  constructor(
    options: TaskStoreOptions,
    logger: Logger,
    private readonly hooks: DeadLetterHooks,
  ) {
    const drops = new DropReporter(logger, 10_000, DEAD_LETTER_DROPS)
    this.shelf = new DeadLetters(options.deadLetterCapacity, options.deadLetterRetentionMs, (channel, count) => {
      this.dropped += count
      drops.record(channel, count)
    })
  }

  /** Shelves a dead letter under a new id (a task that dies twice has two); past capacity the oldest go. */
  add(fields: Omit<DeadLetter, 'id'>): void {
    this.shelf.add(Object.freeze({ id: randomUUID(), ...fields }))
  }

  async listDeadLetters(channel: string, options?: { readonly limit?: number }): Promise<DeadLetter[]> {
    this.hooks.begin('list dead letters')
    return this.shelf.list(channel, options?.limit ?? 100)
  }

  async getDeadLetter(channel: string, id: string): Promise<DeadLetter | undefined> {
    this.hooks.begin('read a dead letter')
    return this.shelf.get(channel, id)
  }

  async replayDeadLetters(channel: string, ids?: readonly string[]): Promise<number> {
    this.hooks.begin('replay dead letters')
    const letters = this.shelf.take(channel, ids)
    for (const letter of letters) this.hooks.revive(letter)
    return letters.length
  }

  async purgeDeadLetters(
    channel: string,
    options?: { readonly olderThanMs?: number; readonly dryRun?: boolean },
  ): Promise<number> {
    const now = this.hooks.begin('purge dead letters')
    const olderThanMs = options?.olderThanMs
    // At least `olderThanMs` old, as a Redis ZREMRANGEBYSCORE up to `now - olderThanMs` (inclusive) would.
    const cutoff = olderThanMs === undefined ? Infinity : now - olderThanMs
    return options?.dryRun === true ? this.shelf.countOlder(channel, cutoff) : this.shelf.deleteOlder(channel, cutoff)
  }

  async deadLetterChannels(): Promise<string[]> {
    this.hooks.begin('list dead-letter channels')
    return this.shelf.channels()
  }

  /** Deletes dead letters older than `deadLetterRetentionMs`, on every channel. */
  purgeExpired(now: number): void {
    this.shelf.purgeExpired(now)
  }

  /** Dead letters kept, per channel. */
  counts(): ReadonlyMap<string, number> {
    return this.shelf.counts()
  }

  /** Dead letters dropped over capacity since the store was created. */
  droppedCount(): number {
    return this.dropped
  }

  clear(): void {
    this.shelf.clear()
  }
}
