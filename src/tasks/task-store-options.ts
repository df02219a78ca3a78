import { InvalidOptionError } from '../errors.js'
import { positiveInteger } from '../layers/layer-options.js'
import { DEFAULT_TASK_STORE_OPTIONS, type TaskStoreOptions } from './task-store.js'

/** The task-store options a layer's constructor accepts next to its own (both built-in layers do). */
export interface TaskStoreLayerOptions {
  /**
   * How long a task's state stays readable after its last change, in milliseconds; also how long a succeeded
   * task is remembered, so a duplicate of it is acked without running.
   * @defaultValue 3_600_000 (one hour)
   */
  readonly taskStateRetentionMs?: number
  /**
   * Dead letters kept per channel; past it the oldest are dropped (counted and logged).
   * @defaultValue 10_000
   */
  readonly deadLetterCapacity?: number
  /**
   * How long a dead letter is kept, in milliseconds.
   * @defaultValue 604_800_000 (seven days)
   */
  readonly deadLetterRetentionMs?: number
}

/** The option names `resolveTaskStoreOptions` reads: pass them as `resolveLayerOptions`' extra keys. */
export const TASK_STORE_OPTION_KEYS: readonly (keyof TaskStoreOptions)[] = Object.freeze([
  'taskStateRetentionMs',
  'deadLetterCapacity',
  'deadLetterRetentionMs',
])

/**
 * Validates the task-store options among a layer's constructor options (other keys are ignored: the layer's own
 * resolver checks them), fills defaults and freezes the result.
 */
export function resolveTaskStoreOptions(options: TaskStoreLayerOptions | undefined): TaskStoreOptions {
  const given = options ?? {}
  if (typeof given !== 'object' || (given as unknown) === null) {
    throw new InvalidOptionError('options', 'an object', given)
  }
  const defaults = DEFAULT_TASK_STORE_OPTIONS
  return Object.freeze({
    taskStateRetentionMs: positiveInteger(
      'taskStateRetentionMs',
      given.taskStateRetentionMs,
      defaults.taskStateRetentionMs,
    ),
    deadLetterCapacity: positiveInteger('deadLetterCapacity', given.deadLetterCapacity, defaults.deadLetterCapacity),
    deadLetterRetentionMs: positiveInteger(
      'deadLetterRetentionMs',
      given.deadLetterRetentionMs,
      defaults.deadLetterRetentionMs,
    ),
  })
}
