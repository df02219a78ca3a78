/**
 * The few events no existing counter records, reported to whoever listens: `createMetrics()` adds a sink and its
 * `close()` removes it. With no sink (the default) each report is one size check, so the hot paths pay nothing.
 */

/** How a task attempt ended: acked, scheduled for a retry, or dead-lettered. */
export type TaskOutcome = 'succeeded' | 'retried' | 'dead'

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

const sinks = new Set<MetricsSink>()

/** Starts reporting to `sink`; call the returned function to stop. */
export function addMetricsSink(sink: MetricsSink): () => void {
  sinks.add(sink)
  return () => {
    sinks.delete(sink)
  }
}

export function reportConsumerMessageIn(consumer: string): void {
  if (sinks.size === 0) return
  for (const sink of sinks) sink.consumerMessageIn(consumer)
}

export function reportConsumerMessageOut(consumer: string): void {
  if (sinks.size === 0) return
  for (const sink of sinks) sink.consumerMessageOut(consumer)
}

export function reportTaskAttempt(channel: string, outcome: TaskOutcome, seconds: number): void {
  if (sinks.size === 0) return
  for (const sink of sinks) sink.taskAttempt(channel, outcome, seconds)
}

export function reportGroupSend(reached: number): void {
  if (sinks.size === 0) return
  for (const sink of sinks) sink.groupSend(reached)
}

export function reportLayerMessageRefused(consumer: string, reason: string): void {
  if (sinks.size === 0) return
  for (const sink of sinks) sink.layerMessageRefused(consumer, reason)
}

export function reportClientError(consumer: string, code: string): void {
  if (sinks.size === 0) return
  for (const sink of sinks) sink.clientError(consumer, code)
}
