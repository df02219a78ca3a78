// The argument checks of every task store call, written once for both built-in stores (and any other): each
// store calls them first, so a bad argument fails the call before anything changed, with the same typed error
// (`InvalidOptionError` naming the argument, `InvalidChannelNameError`) whatever the backend.
import { InvalidOptionError } from '../errors.js'
import { nonNegativeInteger, positiveInteger } from '../layers/layer-options.js'
import { assertChannelName } from '../layers/names.js'
import type { TaskSettlement } from './task-queue.js'

/** `claim(channel, max, visibilityMs)`: a valid channel name, and both numbers positive integers. */
export function assertClaimArguments(channel: unknown, max: unknown, visibilityMs: unknown): void {
  assertChannelName(channel)
  positiveInteger('max', max, 0)
  positiveInteger('visibilityMs', visibilityMs, 0)
}

/**
 * `settle(channel, settlements, max, visibilityMs)`: every settlement a claim of `channel` and every retry's
 * `delayMs` a non-negative integer (settling is all or nothing); `max` a non-negative integer, and when it claims
 * (`max` > 0) as `claim` checks it.
 */
export function assertSettleArguments(
  channel: unknown,
  settlements: readonly TaskSettlement[],
  max: unknown,
  visibilityMs: unknown,
): void {
  assertChannelName(channel)
  for (const settlement of settlements) {
    if (settlement.task.channel !== channel) {
      throw new TypeError(`settle(${channel}) was given a claim of channel ${settlement.task.channel}`)
    }
    if (settlement.action === 'retry') assertRetryDelayMs(settlement.delayMs)
  }
  if (nonNegativeInteger('max', max, 0) > 0) positiveInteger('visibilityMs', visibilityMs, 0)
}

/** `retry(task, delayMs, failure)`: a non-negative integer delay. */
export function assertRetryDelayMs(delayMs: unknown): void {
  nonNegativeInteger('delayMs', delayMs, 0)
}

/** `extend(tasks, visibilityMs)`: a positive integer. */
export function assertVisibilityMs(visibilityMs: unknown): void {
  positiveInteger('visibilityMs', visibilityMs, 0)
}

/** `recoverStalled(channel, graceMs)`: a valid channel name; returns `graceMs`, a non-negative integer (0 if omitted). */
export function recoverStalledGraceMs(channel: unknown, graceMs: unknown): number {
  assertChannelName(channel)
  return nonNegativeInteger('graceMs', graceMs, 0)
}

/** `listDeadLetters(channel, { limit })`: returns `limit`, a positive integer (100 if omitted). */
export function deadLetterListLimit(channel: unknown, options: { readonly limit?: unknown } | undefined): number {
  assertChannelName(channel)
  return positiveInteger('limit', options?.limit, 100)
}

/**
 * `purgeDeadLetters(channel, { olderThanMs })`: returns `olderThanMs`, a non-negative integer, or undefined when
 * omitted (every dead letter).
 */
export function purgeOlderThanMs(
  channel: unknown,
  options: { readonly olderThanMs?: unknown } | undefined,
): number | undefined {
  assertChannelName(channel)
  const olderThanMs = options?.olderThanMs
  return olderThanMs === undefined ? undefined : nonNegativeInteger('olderThanMs', olderThanMs, 0)
}

/** `replayDeadLetters(channel, ids)`: `ids` an array when given. */
export function assertReplayArguments(channel: unknown, ids: unknown): void {
  assertChannelName(channel)
  if (ids !== undefined && !Array.isArray(ids)) throw new InvalidOptionError('ids', 'an array of ids', ids)
}
