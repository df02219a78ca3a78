import type { ScheduleSpec } from '../../tasks/schedules/schedule-options.js'
import type { ScheduleRecords, StoredSchedule } from '../../tasks/schedules/schedule-store.js'

/** Schedules in one process's memory: each step is synchronous, so `advance` is atomic by construction. */
export class MemorySchedules implements ScheduleRecords {
  private readonly byId = new Map<string, StoredSchedule>()

  put(id: string, spec: ScheduleSpec, nextRunMs: number): Promise<void> {
    this.byId.set(id, { id, spec, nextRunMs, lastRunMs: this.byId.get(id)?.lastRunMs })
    return Promise.resolve()
  }

  /** The layer was flushed (a flushed Redis prefix loses its schedules too). */
  clear(): void {
    this.byId.clear()
  }

  remove(id: string): Promise<boolean> {
    return Promise.resolve(this.byId.delete(id))
  }

  list(): Promise<StoredSchedule[]> {
    return Promise.resolve(this.sorted())
  }

  due(nowMs: number, limit: number): Promise<StoredSchedule[]> {
    return Promise.resolve(
      this.sorted()
        .filter((stored) => stored.nextRunMs <= nowMs)
        .slice(0, limit),
    )
  }

  advance(id: string, expectedNextRunMs: number, nextRunMs: number, firedMs: number | undefined): Promise<boolean> {
    const stored = this.byId.get(id)
    if (stored?.nextRunMs !== expectedNextRunMs) return Promise.resolve(false)
    this.byId.set(id, { ...stored, nextRunMs, lastRunMs: firedMs ?? stored.lastRunMs })
    return Promise.resolve(true)
  }

  earliest(): Promise<number | undefined> {
    return Promise.resolve(this.sorted()[0]?.nextRunMs)
  }

  private sorted(): StoredSchedule[] {
    return [...this.byId.values()].sort((a, b) => a.nextRunMs - b.nextRunMs || (a.id < b.id ? -1 : 1))
  }
}
