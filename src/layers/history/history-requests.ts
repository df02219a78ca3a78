import { InvalidOptionError } from '../../errors.js'
import type { GroupAddOptions, GroupHistoryOptions } from '../channel-layer.js'
import { nonNegativeInteger, positiveInteger } from '../option-values.js'
import { assertStreamPosition, type StreamPosition } from './positions.js'

/**
 * Argument checks every backend runs on a history request before touching storage, so memory and Redis refuse the
 * same calls with the same `InvalidOptionError`. They run before the group's history is looked up: a malformed
 * request is `InvalidOptionError` even on a group without history.
 */

/** The `recover` position of `groupAdd` options, validated; undefined without one. */
export function recoverOption(options: GroupAddOptions | undefined): StreamPosition | undefined {
  if (options === undefined) return undefined
  if (typeof options !== 'object' || (options as unknown) === null) {
    throw new InvalidOptionError('options', 'an object such as { recover: { offset, epoch } }', options)
  }
  return options.recover === undefined ? undefined : assertStreamPosition('recover', options.recover)
}

/** `groupHistory` options, validated: `limit` is Infinity when absent (every kept message). */
export interface HistoryQuery {
  readonly afterOffset: number | undefined
  readonly limit: number
}

export function historyQuery(options: GroupHistoryOptions | undefined): HistoryQuery {
  if (options === undefined) return { afterOffset: undefined, limit: Number.POSITIVE_INFINITY }
  if (typeof options !== 'object' || (options as unknown) === null) {
    throw new InvalidOptionError('options', 'an object such as { afterOffset: 41, limit: 50 }', options)
  }
  const { afterOffset, limit } = options
  return {
    afterOffset: afterOffset === undefined ? undefined : nonNegativeInteger('afterOffset', afterOffset, 0),
    limit: positiveInteger('limit', limit, Number.POSITIVE_INFINITY),
  }
}
