/**
 * The events no existing counter records, published on `node:diagnostics_channel` channels for whoever listens:
 * `createMetrics()` subscribes while it is open, and so may an APM or a test. Layers, consumers and workers only
 * publish here; they know nothing of monitoring. With nobody subscribed, each report is one property read, so the
 * hot paths pay nothing; and channels are looked up by name, so two copies of the package in one process (an
 * `--app` module loaded by the CLI) report to the same subscribers.
 */
import { channel, type Channel } from 'node:diagnostics_channel'

/** How a task attempt ended: acked, scheduled for a retry, or dead-lettered. */
export type TaskOutcome = 'succeeded' | 'retried' | 'dead'

/** What each channel carries. */
export interface DiagnosticsEvents {
  /** A consumer dispatched a message to its handler (`in`) or sent an event to its client (`out`). */
  readonly 'switchyard:consumer-message': { readonly consumer: string; readonly direction: 'in' | 'out' }
  /** A task attempt finished after `seconds` of running. */
  readonly 'switchyard:task-attempt': {
    readonly channel: string
    readonly outcome: TaskOutcome
    readonly seconds: number
  }
  /** A `groupSend` accepted the message into `reached` member channels (full members not counted). */
  readonly 'switchyard:group-send': { readonly reached: number }
  /** A consumer refused a layer message: a client event type, or a type no handler takes. */
  readonly 'switchyard:layer-message-refused': { readonly consumer: string; readonly reason: string }
  /** A consumer closed a connection over what its client sent (bad JSON, a binary frame, data it could not use). */
  readonly 'switchyard:client-error': { readonly consumer: string; readonly code: string }
}

export type DiagnosticsChannelName = keyof DiagnosticsEvents

// One channel object per name: diagnostics_channel keeps them weakly, and `hasSubscribers` on a held object is the
// cheap check that makes an unobserved publish cost nothing.
const channels: { readonly [N in DiagnosticsChannelName]: Channel } = {
  'switchyard:consumer-message': channel('switchyard:consumer-message'),
  'switchyard:task-attempt': channel('switchyard:task-attempt'),
  'switchyard:group-send': channel('switchyard:group-send'),
  'switchyard:layer-message-refused': channel('switchyard:layer-message-refused'),
  'switchyard:client-error': channel('switchyard:client-error'),
}

function publish<N extends DiagnosticsChannelName>(name: N, event: DiagnosticsEvents[N]): void {
  const to = channels[name]
  if (to.hasSubscribers) to.publish(event)
}

/**
 * Whether anyone listens on `switchyard:consumer-message`. A consumer reports every message in and out, and naming
 * it (its class's name) cost more than the unobserved publish: it asks this first and names itself only then.
 */
export function consumerMessagesObserved(): boolean {
  return channels['switchyard:consumer-message'].hasSubscribers
}

export function reportConsumerMessageIn(consumer: string): void {
  publish('switchyard:consumer-message', { consumer, direction: 'in' })
}

export function reportConsumerMessageOut(consumer: string): void {
  publish('switchyard:consumer-message', { consumer, direction: 'out' })
}

export function reportTaskAttempt(channel: string, outcome: TaskOutcome, seconds: number): void {
  publish('switchyard:task-attempt', { channel, outcome, seconds })
}

export function reportGroupSend(reached: number): void {
  publish('switchyard:group-send', { reached })
}

export function reportLayerMessageRefused(consumer: string, reason: string): void {
  publish('switchyard:layer-message-refused', { consumer, reason })
}

export function reportClientError(consumer: string, code: string): void {
  publish('switchyard:client-error', { consumer, code })
}
