import { WORKER_FORGET_AFTER_MS } from '../../tasks/task-store.js'

/**
 * The in-memory worker or server registry: each id's last report and when it came. Entries silent for
 * `WORKER_FORGET_AFTER_MS` are dropped when listed, as the Redis registry does.
 */
export class MemoryRegistry<Report extends { readonly id: string }> {
  private readonly entries = new Map<string, { readonly report: Report; readonly beatAt: number }>()

  report(report: Report): void {
    this.entries.set(report.id, { report: Object.freeze({ ...report }), beatAt: Date.now() })
  }

  /** Every entry as `snapshot(report, beatAt, now)`, sorted by id. */
  list<Snapshot extends { readonly id: string }>(
    now: number,
    snapshot: (report: Report, beatAt: number, now: number) => Snapshot,
  ): Snapshot[] {
    const snapshots: Snapshot[] = []
    for (const [id, { report, beatAt }] of this.entries) {
      if (now - beatAt > WORKER_FORGET_AFTER_MS) this.entries.delete(id)
      else snapshots.push(snapshot(report, beatAt, now))
    }
    return snapshots.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  }

  forget(id: string): void {
    this.entries.delete(id)
  }

  clear(): void {
    this.entries.clear()
  }
}
