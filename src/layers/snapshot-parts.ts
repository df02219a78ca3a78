import { positiveInteger } from './layer-options.js'
import type { GroupSnapshot } from './snapshot.js'

/**
 * A group's snapshot from its member channel names: members are counted per owning process, the part of a
 * process-specific name up to and including `!` (`specific.<id>!`), or the channel itself for plain names.
 */
export function groupSnapshot(name: string, members: Iterable<string>): GroupSnapshot {
  const byProcess = new Map<string, number>()
  let total = 0
  for (const member of members) {
    const bang = member.indexOf('!')
    const process = bang === -1 ? member : member.slice(0, bang + 1)
    byProcess.set(process, (byProcess.get(process) ?? 0) + 1)
    total++
  }
  return {
    name,
    members: total,
    byProcess: [...byProcess]
      .sort(([a], [b]) => compareText(a, b))
      .map(([process, count]) => ({ process, members: count })),
  }
}

/** Code-unit order, the same on every machine (unlike `localeCompare`). */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** How many channels and groups `inspect()` reports at most unless told otherwise. */
export const DEFAULT_INSPECT_LIMIT = 1000

/** Validated `maxChannels` / `maxGroups`. */
export function inspectLimit(name: 'maxChannels' | 'maxGroups', value: number | undefined): number {
  return positiveInteger(name, value, DEFAULT_INSPECT_LIMIT)
}
