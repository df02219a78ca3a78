/**
 * Hand-written raw applications for the communicator tests: async functions speaking the events directly, so the
 * tests depend on nothing but the Application contract.
 */
import type { Application, InputEvent, OutputEvent, Send } from '../../../src/application.js'

/** Accepts, echoes every frame as it came (text as text, bytes as bytes), returns on disconnect. */
export const echoApp: Application = async (_scope, receive, send) => {
  for (;;) {
    const event = await receive()
    if (event.type === 'websocket.connect') await send({ type: 'websocket.accept' })
    else if (event.type === 'websocket.receive') await send(echoOf(event))
    else if (event.type === 'websocket.disconnect') return
  }
}

function echoOf(event: Extract<InputEvent, { type: 'websocket.receive' }>): OutputEvent {
  if (typeof event.text === 'string') return { type: 'websocket.send', text: event.text }
  return { type: 'websocket.send', bytes: event.bytes ?? new Uint8Array() }
}

/** Resolves with what a promise rejected with; fails if it resolved. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('Expected the promise to reject, but it resolved')
}

/** The error `send(event)` rejects with inside an application. */
export function sendError(send: Send, event: OutputEvent): Promise<unknown> {
  return rejectionOf(send(event))
}

/** Resolves after `ms` on the real clock. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** A promise with its resolve function, to learn from inside an application what happened there. */
export function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((done) => {
    resolve = done
  })
  return { promise, resolve }
}
