/**
 * What metrics record of the events Switchyard publishes on `node:diagnostics_channel` (`src/diagnostics.ts`):
 * `createMetrics()` subscribes a sink while it is open and `close()` unsubscribes it.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel'

import type { DiagnosticsEvents, TaskOutcome } from '../diagnostics.js'

export type { TaskOutcome } from '../diagnostics.js'

export interface MetricsSink {
  /** A consumer dispatched a message (client event or layer message) to its handler. */
  consumerMessageIn(consumer: string): void
  /** A consumer sent an event to its client (`baseSend`). */
  consumerMessageOut(consumer: string): void
  /** A task attempt finished after `seconds` of running. */
  taskAttempt(channel: string, outcome: TaskOutcome, seconds: number): void
  /** A `groupSend` accepted the message into `reached` member channels (full members not counted). */
  groupSend(reached: number): void
  /** A consumer refused a layer message: a client event type, or a type no handler takes. */
  layerMessageRefused(consumer: string, reason: string): void
  /** A consumer closed a connection over what its client sent (bad JSON, a binary frame, data it could not use). */
  clientError(consumer: string, code: string): void
}

/** Feeds `sink` from the diagnostics channels until the returned function is called. */
export function addMetricsSink(sink: MetricsSink): () => void {
  const handlers = {
    'switchyard:consumer-message': (event: DiagnosticsEvents['switchyard:consumer-message']) => {
      if (event.direction === 'in') sink.consumerMessageIn(event.consumer)
      else sink.consumerMessageOut(event.consumer)
    },
    'switchyard:task-attempt': (event: DiagnosticsEvents['switchyard:task-attempt']) => {
      sink.taskAttempt(event.channel, event.outcome, event.seconds)
    },
    'switchyard:group-send': (event: DiagnosticsEvents['switchyard:group-send']) => {
      sink.groupSend(event.reached)
    },
    'switchyard:layer-message-refused': (event: DiagnosticsEvents['switchyard:layer-message-refused']) => {
      sink.layerMessageRefused(event.consumer, event.reason)
    },
    'switchyard:client-error': (event: DiagnosticsEvents['switchyard:client-error']) => {
      sink.clientError(event.consumer, event.code)
    },
  }
  const entries = Object.entries(handlers) as [string, (message: never) => void][]
  for (const [name, handler] of entries) subscribe(name, handler as (message: unknown) => void)
  return () => {
    for (const [name, handler] of entries) unsubscribe(name, handler as (message: unknown) => void)
  }
}
