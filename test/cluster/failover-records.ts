// What failover.test.ts reads back from its worker processes (fixtures/cluster-worker-app.ts) and from its group
// listener, and the timings it derives from them.
import { readFileSync } from 'node:fs'

export interface RunRecord {
  readonly kind: 'start' | 'done' | 'acked' | 'claimed'
  readonly taskId: string
  readonly pid: number
  readonly at: number
}

/** The fixture's records, in order: `start <id> <attempt> <pid> <ms>`; `done|acked|claimed <id> <pid> <ms>`. */
export function readRecords(file: string): RunRecord[] {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return []
  }
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const parts = line.split(' ')
      const kind = parts[0] as RunRecord['kind']
      const [pid, at] = kind === 'start' ? [parts[3], parts[4]] : [parts[2], parts[3]]
      return { kind, taskId: parts[1] ?? '', pid: Number(pid), at: Number(at) }
    })
}

/**
 * When the claiming call of each start began: a process's n-th start of a task is its n-th recorded claim of it (the
 * fixture records claims that were not of an already succeeded task). A start without one is not in the map.
 */
export function claimTimes(records: readonly RunRecord[]): Map<RunRecord, number> {
  const claims = new Map<string, number[]>()
  const times = new Map<RunRecord, number>()
  for (const record of records) {
    const key = `${record.taskId} ${record.pid}`
    if (record.kind === 'claimed') claims.set(key, [...(claims.get(key) ?? []), record.at])
    else if (record.kind === 'start') {
      const claimed = claims.get(key)?.shift()
      if (claimed !== undefined) times.set(record, claimed)
    }
  }
  return times
}

/** The first time each task has a record of `kind`. */
export function firstOf(records: readonly RunRecord[], kind: RunRecord['kind']): Map<string, number> {
  const first = new Map<string, number>()
  for (const record of records)
    if (record.kind === kind && !first.has(record.taskId)) first.set(record.taskId, record.at)
  return first
}

/**
 * The longest time without a delivery around a fault: between consecutive receipts from the last one before `from`
 * (or `from` itself when there is none) to the last one. Infinity when nothing arrived after `from`.
 */
export function longestGap(receipts: readonly number[], from: number): number {
  const before = receipts.filter((at) => at <= from).at(-1) ?? from
  const after = receipts.filter((at) => at > from)
  if (after.length === 0) return Infinity
  let longest = 0
  let previous = before
  for (const at of after) {
    longest = Math.max(longest, at - previous)
    previous = at
  }
  return longest
}
