import type { InputEvent, Receive } from '../application.js'

/** Takes the client events a feed hands over, one per `ClientFeed.next` call. */
export interface ClientEventListener<E = InputEvent> {
  clientEvent(event: E): void
  /** The feed ended (the application was cancelled): no event follows. */
  clientEventFailed(error: unknown): void
}

/**
 * Where a `receive` gets its events from, when the server can hand them over without a promise: `next(listener)`
 * gives the listener the next event (at once if one is waiting) or its failure, exactly once. A consumer waiting
 * for its client then holds a reference in the feed, not a pending promise and its reaction closures.
 */
export interface ClientFeed<E = InputEvent> {
  next(listener: ClientEventListener<E>): void
}

/** Every feed-backed `receive`, so a run loop given one can listen to its feed instead. */
const feeds = new WeakMap<Receive, ClientFeed>()

/** Registers `receive` as backed by `feed`; returns it. */
export function feedingReceive(receive: Receive, feed: ClientFeed): Receive {
  feeds.set(receive, feed)
  return receive
}

/**
 * The feed behind `receive`, if the server made it with `feedingReceive`. A `receive` wrapped by middleware is not
 * one: it is awaited as any other.
 */
export function clientFeedOf(receive: Receive): ClientFeed | undefined {
  return feeds.get(receive)
}
