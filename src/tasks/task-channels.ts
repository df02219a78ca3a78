import { isProcessSpecific } from '../layers/names.js'

/**
 * Which channels carry tasks: those the layer's `taskChannels` option names, and those a worker declared
 * (`TaskStore.declareTaskChannels`, for the channels its `RetryingConsumer`s serve). A process-specific channel
 * (`…!…`) never does: a worker cannot serve one.
 */
export class TaskChannels {
  private readonly declared = new Set<string>()

  constructor(private readonly patterns: readonly RegExp[]) {}

  has(channel: string): boolean {
    if (this.declared.has(channel)) return true
    if (this.patterns.length === 0 || isProcessSpecific(channel)) return false
    return this.patterns.some((pattern) => pattern.test(channel))
  }

  /** Declares `channel` a task channel of this process; false when it already was one. */
  declare(channel: string): boolean {
    if (this.has(channel)) return false
    this.declared.add(channel)
    return true
  }
}
