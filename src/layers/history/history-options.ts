import { InvalidOptionError } from '../../errors.js'
import { globToRegExp, positiveInteger } from '../option-values.js'

/** How much of a group's history to keep: exactly the last `size` messages, each for at most `ttlMs`. */
export interface HistorySettings {
  readonly size: number
  readonly ttlMs: number
}

/**
 * History by group-name pattern (a glob, fnmatch rules as `channelCapacity`), first match wins:
 * `{ 'chat.*': { size: 100, ttlMs: 300_000 } }`.
 */
export type HistoryOptions = Readonly<Record<string, HistorySettings>>

export interface HistoryRule extends HistorySettings {
  readonly pattern: RegExp
}

/** Largest `size` accepted: a recovery replays at most this many messages in one go. */
export const MAX_HISTORY_SIZE = 10_000

/** Validates and compiles the `history` option once; an empty list when absent. */
export function compileHistoryRules(value: unknown): readonly HistoryRule[] {
  if (value === undefined) return Object.freeze([])
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOptionError(
      'history',
      "an object of group pattern -> { size, ttlMs }, e.g. { 'chat.*': { size: 100, ttlMs: 300_000 } }",
      value,
    )
  }
  const rules = Object.entries(value as Readonly<Record<string, unknown>>).map(([glob, settings]): HistoryRule => {
    const label = `history[${JSON.stringify(glob)}]`
    if (glob.length === 0) throw new InvalidOptionError('history', 'non-empty group patterns', glob)
    if (typeof settings !== 'object' || settings === null) {
      throw new InvalidOptionError(label, 'an object { size, ttlMs }', settings)
    }
    const { size, ttlMs, ...rest } = settings as Readonly<Record<string, unknown>>
    const unknown = Object.keys(rest)[0]
    if (unknown !== undefined)
      throw new InvalidOptionError(`${label}.${unknown}`, 'absent (unknown option)', rest[unknown])
    if (size === undefined || ttlMs === undefined) {
      throw new InvalidOptionError(label, 'an object with both `size` and `ttlMs`', settings)
    }
    const resolvedSize = positiveInteger(`${label}.size`, size, 0)
    if (resolvedSize > MAX_HISTORY_SIZE) {
      throw new InvalidOptionError(`${label}.size`, `at most ${MAX_HISTORY_SIZE}`, size)
    }
    return Object.freeze({
      pattern: globToRegExp(glob),
      size: resolvedSize,
      ttlMs: positiveInteger(`${label}.ttlMs`, ttlMs, 0),
    })
  })
  return Object.freeze(rules)
}

/** The history settings of `group`, or undefined when no pattern matches (the group keeps no history). */
export function historyFor(rules: readonly HistoryRule[], group: string): HistorySettings | undefined {
  for (const rule of rules) if (rule.pattern.test(group)) return rule
  return undefined
}
