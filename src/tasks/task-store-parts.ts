import type { DeadLetter, DeadLetterStore } from './dead-letter-store.js'
import type { FlowDriver } from './flows/flow-driver.js'
import type { FlowControl, FlowOptions, FlowState, FlowStep } from './flows/flow-types.js'
import { assertChannelName } from '../layers/names.js'
import type { ProcessRegistry, ServerReport, ServerSnapshot, WorkerReport, WorkerSnapshot } from './process-registry.js'
import type { ScheduleOptions } from './schedules/schedule-options.js'
import type { ScheduleInfo, ScheduleStore, ScheduleTick } from './schedules/schedule-store.js'
import { assertReplayArguments, deadLetterListLimit, purgeOlderThanMs } from './task-arguments.js'

/**
 * The part of a `TaskStore` that is not its queue, handed to the two objects that hold it: its dead letters and its
 * process registry. A store that keeps them apart extends this and implements the queue (`TaskQueue`) itself, so
 * the delegation, and the dead-letter argument checks (`task-arguments.ts`), are written once for every backend:
 * the objects it delegates to are given checked arguments.
 *
 * @example
 * ```ts
 * class MyTaskStore extends TaskStoreParts implements TaskStore {
 *   protected readonly deadLetters = new MyDeadLetters()
 *   protected readonly registry = new MyRegistry()
 *   // claim, ack, retry, bury, settle, ...
 * }
 * ```
 */
export abstract class TaskStoreParts implements DeadLetterStore, ProcessRegistry, ScheduleStore, FlowControl {
  protected abstract readonly deadLetters: DeadLetterStore
  protected abstract readonly flows: FlowDriver
  protected abstract readonly registry: ProcessRegistry
  protected abstract readonly schedules: ScheduleStore

  async listDeadLetters(channel: string, options?: { readonly limit?: number }): Promise<DeadLetter[]> {
    return this.deadLetters.listDeadLetters(channel, { limit: deadLetterListLimit(channel, options) })
  }

  async getDeadLetter(channel: string, id: string): Promise<DeadLetter | undefined> {
    assertChannelName(channel)
    return this.deadLetters.getDeadLetter(channel, id)
  }

  async replayDeadLetters(channel: string, ids?: readonly string[]): Promise<number> {
    assertReplayArguments(channel, ids)
    return this.deadLetters.replayDeadLetters(channel, ids)
  }

  async purgeDeadLetters(
    channel: string,
    options?: { readonly olderThanMs?: number; readonly dryRun?: boolean },
  ): Promise<number> {
    const olderThanMs = purgeOlderThanMs(channel, options)
    return this.deadLetters.purgeDeadLetters(channel, {
      ...(olderThanMs === undefined ? {} : { olderThanMs }),
      dryRun: options?.dryRun === true,
    })
  }

  deadLetterChannels(): Promise<string[]> {
    return this.deadLetters.deadLetterChannels()
  }

  reportWorker(report: WorkerReport): Promise<void> {
    return this.registry.reportWorker(report)
  }

  listWorkers(): Promise<WorkerSnapshot[]> {
    return this.registry.listWorkers()
  }

  forgetWorker(id: string): Promise<void> {
    return this.registry.forgetWorker(id)
  }

  reportServer(report: ServerReport): Promise<void> {
    return this.registry.reportServer(report)
  }

  listServers(): Promise<ServerSnapshot[]> {
    return this.registry.listServers()
  }

  forgetServer(id: string): Promise<void> {
    return this.registry.forgetServer(id)
  }

  schedule(id: string, options: ScheduleOptions): Promise<ScheduleInfo> {
    return this.schedules.schedule(id, options)
  }

  unschedule(id: string): Promise<boolean> {
    return this.schedules.unschedule(id)
  }

  listSchedules(): Promise<ScheduleInfo[]> {
    return this.schedules.listSchedules()
  }

  claimDueSchedules(nowMs?: number): Promise<ScheduleTick[]> {
    return this.schedules.claimDueSchedules(nowMs)
  }

  nextScheduleRunMs(): Promise<number | undefined> {
    return this.schedules.nextScheduleRunMs()
  }

  chain(steps: readonly FlowStep[], options?: FlowOptions): Promise<string> {
    return this.flows.chain(steps, options)
  }

  chord(steps: readonly FlowStep[], then: FlowStep, options?: FlowOptions): Promise<string> {
    return this.flows.chord(steps, then, options)
  }

  getFlowState(flowId: string): Promise<FlowState | undefined> {
    return this.flows.getFlowState(flowId)
  }
}
