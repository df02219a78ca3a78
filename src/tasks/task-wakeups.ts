/** How an idle worker waits (`TaskStore.waitForTasks`). */
export interface WaitForTasksOptions {
  /** Resolve after this long at the latest, woken or not (the fallback poll: a sender may not wake anyone). */
  readonly timeoutMs: number
  /** Resolve at once when aborted (the worker stops, or has something else to do). */
  readonly signal?: AbortSignal
}

interface Watch {
  readonly waiters: Set<() => void>
  /** Woken while nobody waited: the next wait returns at once, so a wake between a claim and a wait is not lost. */
  pending: boolean
}

/**
 * Idle workers waiting for new tasks, per channel, and the wake-ups that end their wait. A store calls `notify`
 * when a channel may have new tasks (a send, a retry or a replay come due); only channels someone waited on are
 * tracked, so the map is bounded by the channels this process serves.
 */
export class TaskWakeups {
  private readonly watches = new Map<string, Watch>()

  /** Resolves on the next `notify(channel)`, after `timeoutMs`, or when `signal` aborts; never rejects. */
  wait(channel: string, { timeoutMs, signal }: WaitForTasksOptions): Promise<void> {
    let watch = this.watches.get(channel)
    if (watch === undefined) {
      watch = { waiters: new Set(), pending: false }
      this.watches.set(channel, watch)
    }
    if (watch.pending || signal?.aborted === true) {
      watch.pending = false
      return Promise.resolve()
    }
    const { waiters } = watch
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', done)
        waiters.delete(done)
        resolve()
      }
      const timer = setTimeout(done, timeoutMs)
      signal?.addEventListener('abort', done, { once: true })
      waiters.add(done)
    })
  }

  /** `channel` may have new tasks: ends every wait on it, or marks the next one to return at once. */
  notify(channel: string): void {
    const watch = this.watches.get(channel)
    if (watch === undefined) return
    if (watch.waiters.size === 0) {
      watch.pending = true
      return
    }
    for (const done of [...watch.waiters]) done()
  }

  /** Channels some worker of this process has waited on. */
  channels(): IterableIterator<string> {
    return this.watches.keys()
  }

  clear(): void {
    for (const watch of this.watches.values()) for (const done of [...watch.waiters]) done()
    this.watches.clear()
  }
}
