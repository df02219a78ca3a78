import type { OutputEvent } from '../application.js'
import { ConnectionClosedError, InvalidEventError, NotAcceptedError } from '../errors.js'
import { describeValue } from '../describe-value.js'
import { checkHeaders, isAbsent, readEvent, type EventFields } from './event-fields.js'
import type { ProtocolState } from './protocol-state.js'

/** The most a close reason may take: a close frame's payload is 125 bytes, 2 of them the code (RFC 6455 5.5.1). */
export const MAX_CLOSE_REASON_BYTES = 123

const WEBSOCKET_EVENTS = 'websocket.accept, websocket.send or websocket.close'

export interface WebsocketProtocolStateOptions {
  /**
   * The subprotocols the client offered (`scope.subprotocols`). When given, accepting with any other subprotocol
   * is rejected: RFC 6455 4.1 makes the client fail such a connection.
   */
  readonly subprotocols?: readonly string[]
}

/**
 * The WebSocket side of the ASGI contract, as the server enforces it: `websocket.accept` once, `websocket.send`
 * only after it and with exactly one of `text` or `bytes`, nothing at all once the connection is closed, and no
 * HTTP events.
 *
 * | event                                 | error                   |
 * | ------------------------------------- | ----------------------- |
 * | `websocket.send` before accept        | `NotAcceptedError`      |
 * | a second `websocket.accept`           | `InvalidEventError`     |
 * | send with neither or both text/bytes  | `InvalidEventError`     |
 * | anything after close or disconnect    | `ConnectionClosedError` |
 * | `http.*` or an unknown type           | `InvalidEventError`     |
 *
 * A malformed event is reported as `InvalidEventError` even on a closed connection: it is a bug either way.
 *
 * @example
 * ```ts
 * const state = new WebsocketProtocolState({ subprotocols: scope.subprotocols })
 * state.check({ type: 'websocket.accept' })
 * state.check({ type: 'websocket.send', text: 'hi' })
 * state.check({ type: 'websocket.close', code: 4007 })
 * state.closed // true; any further check throws ConnectionClosedError
 * ```
 */
export class WebsocketProtocolState implements ProtocolState {
  readonly #offered: readonly string[] | undefined
  #accepted = false
  #closedBy: 'application' | 'client' | undefined

  constructor(options: WebsocketProtocolStateOptions = {}) {
    this.#offered = options.subprotocols
  }

  /** True once `websocket.accept` was sent. */
  get accepted(): boolean {
    return this.#accepted
  }

  /** True once the application sent `websocket.close` or received `websocket.disconnect`. */
  get closed(): boolean {
    return this.#closedBy !== undefined
  }

  check(event: OutputEvent): void {
    const fields = readEvent(event)
    switch (fields.type) {
      case 'websocket.accept':
        this.#checkAcceptFields(fields)
        this.#checkOpen(fields.type)
        if (this.#accepted) {
          throw new InvalidEventError('websocket.accept was already sent: a WebSocket connection is accepted once')
        }
        this.#accepted = true
        return
      case 'websocket.send':
        checkSendFields(fields)
        this.#checkOpen(fields.type)
        if (!this.#accepted) {
          throw new NotAcceptedError(
            'Cannot send websocket.send before websocket.accept: accept the connection first (or close it to reject)',
          )
        }
        return
      case 'websocket.close':
        checkCloseFields(fields, this.#accepted)
        this.#checkOpen(fields.type)
        this.#closedBy = 'application'
        return
      default:
        throw new InvalidEventError(
          `${describeValue(fields.type)} is not an event a WebSocket application can send; send ${WEBSOCKET_EVENTS}`,
        )
    }
  }

  markDisconnected(): void {
    this.#closedBy ??= 'client'
  }

  #checkOpen(type: string): void {
    if (this.#closedBy === undefined) return
    const by = this.#closedBy === 'client' ? 'the client disconnected' : 'the application already sent websocket.close'
    throw new ConnectionClosedError(`Cannot send ${type}: the WebSocket is closed (${by})`)
  }

  #checkAcceptFields(fields: EventFields): void {
    const { subprotocol } = fields
    if (!isAbsent(subprotocol)) {
      if (typeof subprotocol !== 'string') {
        throw new InvalidEventError(
          `websocket.accept \`subprotocol\` must be a string or null, got ${describeValue(subprotocol)}`,
        )
      }
      if (this.#offered !== undefined && !this.#offered.includes(subprotocol)) {
        const offered = this.#offered.length === 0 ? 'none' : this.#offered.map((name) => `"${name}"`).join(', ')
        throw new InvalidEventError(
          `websocket.accept chose subprotocol "${subprotocol}", which the client did not offer (offered: ${offered}); ` +
            'pick one of scope.subprotocols or null',
        )
      }
    }
    checkHeaders(fields)
  }
}

function checkSendFields(fields: EventFields): void {
  const { text, bytes } = fields
  if (!isAbsent(text) && typeof text !== 'string') {
    throw new InvalidEventError(`websocket.send \`text\` must be a string, got ${describeValue(text)}`)
  }
  if (!isAbsent(bytes) && !(bytes instanceof Uint8Array)) {
    throw new InvalidEventError(`websocket.send \`bytes\` must be a Uint8Array, got ${describeValue(bytes)}`)
  }
  if (isAbsent(text) === isAbsent(bytes)) {
    const got = isAbsent(text) ? 'neither' : 'both'
    throw new InvalidEventError(
      `websocket.send needs exactly one of \`text\` (a string) or \`bytes\` (a Uint8Array), got ${got}`,
    )
  }
}

/** Close codes an endpoint may send (the ws library's rule): 1000-1014 but not 1004-1006, and 3000-4999. */
export function isSendableCloseCode(code: number): boolean {
  if (!Number.isInteger(code)) return false
  return (
    (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999)
  )
}

function checkCloseFields(fields: EventFields, accepted: boolean): void {
  const { code, reason } = fields
  if (code !== undefined && (typeof code !== 'number' || !Number.isInteger(code))) {
    throw new InvalidEventError(`websocket.close \`code\` must be an integer, got ${describeValue(code)}`)
  }
  if (reason !== undefined && typeof reason !== 'string') {
    throw new InvalidEventError(`websocket.close \`reason\` must be a string, got ${describeValue(reason)}`)
  }
  // Before accept the handshake is rejected with HTTP 403 and no close frame, so code and reason go nowhere.
  if (!accepted) return
  if (code !== undefined && !isSendableCloseCode(code)) {
    throw new InvalidEventError(
      `websocket.close code ${code} cannot be sent in a close frame; use 1000-1003, 1007-1014 or an application ` +
        'code in 3000-4999',
    )
  }
  if (reason !== undefined && Buffer.byteLength(reason) > MAX_CLOSE_REASON_BYTES) {
    throw new InvalidEventError(
      `websocket.close \`reason\` is ${Buffer.byteLength(reason)} bytes in UTF-8, over the ` +
        `${MAX_CLOSE_REASON_BYTES}-byte limit of a close frame; shorten it`,
    )
  }
}
