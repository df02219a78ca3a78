import { AssertionError } from 'node:assert'

import type { Application, Headers, WebsocketScope } from '../application.js'
import { InvalidEventError } from '../errors.js'
import { describeValue } from '../describe-value.js'
import { ApplicationCommunicator } from './application-communicator.js'
import { expectEventType } from './expect-event.js'
import type { TimeoutOptions } from './layer-receive.js'
import { websocketScope, type WebsocketScopeOptions } from './test-scopes.js'

export type WebsocketCommunicatorOptions = WebsocketScopeOptions

/** One frame from the client: exactly one of `text` or `bytes` (empty frames are allowed). */
export type ClientFrame =
  { readonly text: string; readonly bytes?: undefined } | { readonly bytes: Uint8Array; readonly text?: undefined }

/** How the handshake ended: accepted (with the chosen subprotocol and extra headers) or rejected. */
export type ConnectResult =
  | { readonly connected: true; readonly subprotocol: string | null; readonly headers: Headers }
  | {
      readonly connected: false
      /** The `websocket.close` code, 1000 when absent. A real client sees HTTP 403 instead. */
      readonly code: number
    }

/**
 * Tests a WebSocket application without a socket, like Channels' `WebsocketCommunicator`: it builds the scope a
 * server would (`websocketScope`), speaks the `websocket.*` events, and checks the application's events with the
 * server's protocol rules. The raw `sendInput`, `receiveOutput`, `receiveNothing`, `wait` and `stop` remain
 * available, e.g. to assert a close code and reason.
 *
 * @example
 * ```ts
 * const communicator = new WebsocketCommunicator(app, '/ws/chat/lobby/', { layer })
 * expect(await communicator.connect()).toMatchObject({ connected: true })
 * await communicator.sendJsonTo({ message: 'hello' })
 * expect(await communicator.receiveJsonFrom()).toEqual({ message: 'hello' })
 * await communicator.disconnect()
 * ```
 */
export class WebsocketCommunicator extends ApplicationCommunicator<WebsocketScope> {
  /**
   * @param path A path with an optional query (`/ws/?token=abc`), or a full URL of which only the path and the
   *   query are used; the path is percent-decoded into `scope.path`.
   */
  constructor(app: Application, path: string, options: WebsocketCommunicatorOptions = {}) {
    super(app, websocketScope(path, options))
  }

  /**
   * Sends `websocket.connect` and reads the application's answer: `websocket.accept` (connected) or
   * `websocket.close` (rejected). Anything else fails the assertion.
   */
  async connect({ timeoutMs = 1000 }: TimeoutOptions = {}): Promise<ConnectResult> {
    await this.sendInput({ type: 'websocket.connect' })
    const event = await this.receiveOutputExpecting('websocket.accept or websocket.close', timeoutMs)
    expectEventType(event, 'websocket.accept', 'websocket.close')
    if (event.type === 'websocket.close') return { connected: false, code: event.code ?? 1000 }
    return { connected: true, subprotocol: event.subprotocol ?? null, headers: event.headers ?? [] }
  }

  /** Sends one client frame: `{ text }` or `{ bytes }`, exactly one. */
  async sendTo(frame: ClientFrame): Promise<void> {
    const { text, bytes } = frame as { readonly text?: unknown; readonly bytes?: unknown }
    if (text !== undefined && typeof text !== 'string') {
      throw new InvalidEventError(`sendTo \`text\` must be a string, got ${describeValue(text)}`)
    }
    if (bytes !== undefined && !(bytes instanceof Uint8Array)) {
      throw new InvalidEventError(`sendTo \`bytes\` must be a Uint8Array, got ${describeValue(bytes)}`)
    }
    if (typeof text === 'string' && bytes instanceof Uint8Array) {
      throw new InvalidEventError('sendTo takes exactly one of `text` or `bytes`, got both')
    }
    if (typeof text === 'string') await this.sendInput({ type: 'websocket.receive', text })
    else if (bytes instanceof Uint8Array) await this.sendInput({ type: 'websocket.receive', bytes })
    else throw new InvalidEventError('sendTo takes exactly one of `text` or `bytes`, got neither')
  }

  /** Sends `JSON.stringify(value)` as a text frame. */
  async sendJsonTo(value: unknown): Promise<void> {
    const text: unknown = JSON.stringify(value)
    if (typeof text !== 'string') {
      throw new InvalidEventError(`sendJsonTo cannot encode ${describeValue(value)} as JSON`)
    }
    await this.sendTo({ text })
  }

  /**
   * Resolves with the payload of the next `websocket.send`: a string for a text frame, the bytes for a binary
   * one. Any other event is consumed and fails the assertion ("Expected type 'websocket.send', but was
   * 'websocket.close'"); use `receiveOutput` to inspect it instead.
   */
  async receiveFrom({ timeoutMs = 1000 }: TimeoutOptions = {}): Promise<string | Uint8Array> {
    const event = await this.receiveOutputExpecting('websocket.send', timeoutMs)
    expectEventType(event, 'websocket.send')
    // The protocol state already rejected a send without exactly one of them.
    return typeof event.text === 'string' ? event.text : (event.bytes ?? new Uint8Array())
  }

  /** Reads a text frame and parses it as JSON. */
  async receiveJsonFrom({ timeoutMs = 1000 }: TimeoutOptions = {}): Promise<unknown> {
    const data = await this.receiveFrom({ timeoutMs })
    if (typeof data !== 'string') {
      throw new AssertionError({ message: 'Expected a text frame holding JSON, but got a binary frame' })
    }
    const value: unknown = JSON.parse(data)
    return value
  }

  /** Sends `websocket.disconnect` with `code` and waits for the application to finish (see `wait`). */
  async disconnect(code = 1000, { timeoutMs = 1000 }: TimeoutOptions = {}): Promise<void> {
    await this.sendInput({ type: 'websocket.disconnect', code })
    await this.wait({ timeoutMs })
  }
}
