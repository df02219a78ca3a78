import type { OutputEvent } from '../application.js'
import { ConnectionClosedError, InvalidEventError } from '../errors.js'
import { describeValue } from '../describe-value.js'
import { checkHeaders, isAbsent, readEvent, type EventFields } from './event-fields.js'
import type { ProtocolState } from './protocol-state.js'

const HTTP_EVENTS = 'http.response.start, then http.response.body'

/**
 * The HTTP side of the ASGI contract, as the server enforces it: one `http.response.start` with a valid status,
 * then `http.response.body` events until one has `moreBody` false (or absent); nothing after that final body or
 * after the client disconnected, and no WebSocket events.
 *
 * | event                                     | error                   |
 * | ----------------------------------------- | ----------------------- |
 * | `http.response.body` before start         | `InvalidEventError`     |
 * | a second `http.response.start`            | `InvalidEventError`     |
 * | anything after the final body, disconnect | `ConnectionClosedError` |
 * | `websocket.*` or an unknown type          | `InvalidEventError`     |
 *
 * @example
 * ```ts
 * const state = new HttpProtocolState()
 * state.check({ type: 'http.response.start', status: 200, headers: [['content-type', 'text/plain']] })
 * state.check({ type: 'http.response.body', body: chunk, moreBody: true })
 * state.check({ type: 'http.response.body' })
 * state.closed // true: the response is complete
 * ```
 */
export class HttpProtocolState implements ProtocolState {
  #started = false
  #closedBy: 'application' | 'client' | undefined

  /** True once `http.response.start` was sent. */
  get started(): boolean {
    return this.#started
  }

  /** True once the final body was sent or the client disconnected. */
  get closed(): boolean {
    return this.#closedBy !== undefined
  }

  check(event: OutputEvent): void {
    const fields = readEvent(event)
    switch (fields.type) {
      case 'http.response.start':
        checkStartFields(fields)
        this.#checkOpen(fields.type)
        if (this.#started) {
          throw new InvalidEventError('http.response.start was already sent: send http.response.body events now')
        }
        this.#started = true
        return
      case 'http.response.body':
        checkBodyFields(fields)
        this.#checkOpen(fields.type)
        if (!this.#started) {
          throw new InvalidEventError(
            'Cannot send http.response.body before http.response.start: send the status and headers first',
          )
        }
        if (fields.moreBody !== true) this.#closedBy = 'application'
        return
      default:
        throw new InvalidEventError(
          `${describeValue(fields.type)} is not an event an HTTP application can send; send ${HTTP_EVENTS}`,
        )
    }
  }

  markDisconnected(): void {
    this.#closedBy ??= 'client'
  }

  #checkOpen(type: string): void {
    if (this.#closedBy === undefined) return
    const by =
      this.#closedBy === 'client'
        ? 'the client disconnected'
        : 'the response is complete (the last http.response.body had no `moreBody: true`)'
    throw new ConnectionClosedError(`Cannot send ${type}: ${by}`)
  }
}

function checkStartFields(fields: EventFields): void {
  const { status } = fields
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599) {
    throw new InvalidEventError(
      `http.response.start \`status\` must be an integer from 100 to 599, got ${describeValue(status)}`,
    )
  }
  checkHeaders(fields)
}

function checkBodyFields(fields: EventFields): void {
  const { body, moreBody } = fields
  if (!isAbsent(body) && !(body instanceof Uint8Array)) {
    throw new InvalidEventError(
      `http.response.body \`body\` must be a Uint8Array (encode strings first), got ${describeValue(body)}`,
    )
  }
  if (!isAbsent(moreBody) && typeof moreBody !== 'boolean') {
    throw new InvalidEventError(`http.response.body \`moreBody\` must be a boolean, got ${describeValue(moreBody)}`)
  }
}
