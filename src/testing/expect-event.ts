import { AssertionError } from 'node:assert'

import type { OutputEvent } from '../application.js'

/**
 * Asserts the application's next event has one of the `expected` types, as Channels' communicators do: the failure
 * is an `AssertionError` reading "Expected type 'websocket.send', but was 'websocket.close'".
 */
export function expectEventType<T extends OutputEvent['type']>(
  event: OutputEvent,
  ...expected: readonly T[]
): asserts event is Extract<OutputEvent, { readonly type: T }> {
  if ((expected as readonly string[]).includes(event.type)) return
  const wanted = expected.map((type) => `'${type}'`).join(' or ')
  throw new AssertionError({
    message: `Expected type ${wanted}, but was '${event.type}'`,
    actual: event.type,
    expected: expected.length === 1 ? expected[0] : expected,
  })
}
