import { CLOSE_APPLICATION_MAX, CLOSE_LIBRARY_MIN, CLOSE_NORMAL, shouldReconnect } from '../protocol/close-codes.js'
import { MAX_HANDED_BACK_POSITIONS, type MessagePosition, POSITION_PARAM } from '../protocol/recovery-protocol.js'
import { reconnectDelayMs } from './backoff.js'
import { ConnectionClosedError } from './connection-closed-error.js'
import type {
  CloseInfo,
  Connection,
  ConnectionState,
  ConnectionStats,
  MessageOfType,
  OpenInfo,
  ServerMessage,
} from './connection.js'
import { decodeMessage } from './decode-message.js'
import { type Listener, Listeners } from './listeners.js'
import { type ConnectOptions, resolveOptions } from './options.js'
import { resolveUrl } from './resolve-url.js'
import { type CloseEventLike, OPEN, type WebSocketLike } from './websocket-like.js'

/**
 * Opens a JSON WebSocket connection that reconnects with backoff (see `reconnectDelayMs` and `shouldReconnect`)
 * and queues what you send while it is down. It keeps the last `__position__` each group's messages carried and
 * hands them back when it reconnects, so a consumer that joins with `joinGroup(group, { recover: true })` replays
 * what the page missed; the page hears how that went from `switchyard.recovery` messages
 * (docs/topics/recovery-protocol.md). The first socket is created before this returns; an invalid URL or
 * option throws here.
 *
 * Written as one closure rather than a class because this file ships to browsers: local variables minify to one
 * letter where `this.#field` cannot, which keeps the client under 4.5 KiB. Each inner function is one event.
 *
 * @example
 * ```ts
 * type ServerEvent = { type: 'chat.message'; name: string; text: string } | { type: 'presence.update'; online: string[] }
 * type ClientEvent = { type: 'chat.message'; text: string }
 *
 * const conn = connect<ServerEvent, ClientEvent>('/ws/chat/lobby/')
 * conn.on('chat.message', (event) => console.log(event.name, event.text))
 * conn.onOpen(({ reconnected }) => console.log(reconnected ? 'back' : 'connected'))
 * conn.send({ type: 'chat.message', text: 'hi' }) // queued until the socket opens
 * ```
 */
export function connect<TServer extends { type: string } = ServerMessage, TClient = unknown>(
  url: string,
  options: ConnectOptions = {},
): Connection<TServer, TClient> {
  const href = resolveUrl(url)
  const { reconnect, maxQueuedMessages, protocols, WebSocket, socketOptions, clock, random } = resolveOptions(options)

  let state: ConnectionState = 'connecting'
  /** The current socket, undefined while waiting to reconnect and once closed. */
  let socket: WebSocketLike | undefined
  let reconnectTimer: unknown
  /** Reconnect attempts since the last connection that stayed open `stableAfterMs`. */
  let attempt = 0
  let openedAt: number | undefined
  let everOpened = false
  /** Attempts that closed without opening, while none ever opened. */
  let refusals = 0
  /** `<group>:<offset>:<epoch>` per history group, the least recently updated first (recovery protocol). */
  const positions = new Map<string, string>()
  /** JSON text, encoded at `send` so later changes to the object never leak into what is sent. */
  const queue: string[] = []
  const stats: ConnectionStats = { sent: 0, received: 0, dropped: 0, reconnects: 0, malformed: 0 }
  const byType = new Map<string, Listeners<TServer>>()
  const messageListeners = new Listeners<TServer>()
  const openListeners = new Listeners<OpenInfo>()
  const stateListeners = new Listeners<ConnectionState>()
  const closeListeners = new Listeners<CloseInfo>()

  function setState(next: ConnectionState): void {
    if (next === state) return
    state = next
    stateListeners.emit(next)
  }

  function transmit(to: WebSocketLike, data: string): void {
    to.send(data)
    stats.sent++
  }

  function openSocket(): void {
    const url = new URL(href)
    for (const position of positions.values()) url.searchParams.append(POSITION_PARAM, position)
    const current = socketOptions
      ? new WebSocket(url.href, protocols, socketOptions)
      : new WebSocket(url.href, protocols)
    socket = current
    // Events of a socket we already left (one still closing after close()) are ignored.
    current.onopen = () => {
      if (current === socket) handleOpen(current)
    }
    current.onmessage = (event) => {
      if (current === socket) handleMessage(event.data)
    }
    current.onclose = (event) => {
      if (current === socket) handleClose(event)
    }
    // A close event always follows an error; the handler must exist anyway, or `ws` throws the error.
    current.onerror = () => undefined
  }

  function handleOpen(current: WebSocketLike): void {
    const reconnected = everOpened
    everOpened = true
    if (reconnected) stats.reconnects++
    openedAt = clock.now()
    setState('open')
    openListeners.emit({ reconnected })
    // After the hooks, so their resubscriptions go out before older queued messages; a hook may have closed us.
    if (state === 'open') for (const data of queue.splice(0)) transmit(current, data)
  }

  function handleMessage(data: unknown): void {
    const message = decodeMessage(data) as TServer | undefined
    if (message === undefined) {
      stats.malformed++
      return
    }
    stats.received++
    // What the server sent: typed as the protocol says, and only stringified here (a bad one fails on the server).
    const { group, offset, epoch } = ((message as ServerMessage)[POSITION_PARAM] ?? {}) as Partial<MessagePosition>
    if (typeof group == 'string') {
      // Deleted first, so the map's order is the order of last update: the stalest is dropped over the bound.
      positions.delete(group)
      positions.set(group, `${group}:${offset}:${epoch}`)
      if (positions.size > MAX_HANDED_BACK_POSITIONS) positions.delete(positions.keys().next().value as string)
    }
    messageListeners.emit(message)
    byType.get(message.type)?.emit(message)
  }

  function handleClose({ code, reason }: CloseEventLike): void {
    socket = undefined
    if (openedAt !== undefined && clock.now() - openedAt >= reconnect.stableAfterMs) attempt = 0
    openedAt = undefined
    if (!everOpened && ++refusals >= reconnect.maxRefusals) {
      closeForGood('refused')
    } else if (shouldReconnect(code) && attempt < reconnect.maxAttempts) {
      reconnectTimer = clock.setTimeout(
        () => {
          reconnectTimer = undefined
          if (state === 'reconnecting') openSocket()
        },
        reconnectDelayMs(attempt++, reconnect, random),
      )
      setState('reconnecting')
    } else {
      closeForGood()
    }
    // Read back from the state: a state handler may have called close().
    closeListeners.emit({ code, reason, willReconnect: state === 'reconnecting' })
  }

  function closeForGood(final: 'closed' | 'refused' = 'closed'): void {
    if (reconnectTimer !== undefined) clock.clearTimeout(reconnectTimer)
    reconnectTimer = undefined
    stats.dropped += queue.splice(0).length
    setState(final)
  }

  const connection: Connection<TServer, TClient> = {
    url: href,
    get state() {
      return state
    },
    on<K extends TServer['type']>(type: K, handler: Listener<MessageOfType<TServer, K>>) {
      let listeners = byType.get(type)
      if (listeners === undefined) byType.set(type, (listeners = new Listeners()))
      // Safe: messages are dispatched here only when their `type` is `K`.
      return listeners.add(handler as Listener<TServer>)
    },
    onMessage: (handler) => messageListeners.add(handler),
    onOpen: (handler) => openListeners.add(handler),
    onStateChange: (handler) => stateListeners.add(handler),
    onClose: (handler) => closeListeners.add(handler),
    send(message) {
      if (state === 'closed' || state === 'refused') throw new ConnectionClosedError(href)
      const data = JSON.stringify(message) as string | undefined
      if (data === undefined) throw new TypeError(`Expected a JSON value, got ${typeof message}`)
      if (state === 'open' && socket?.readyState === OPEN) {
        transmit(socket, data)
      } else if (queue.push(data) > maxQueuedMessages) {
        queue.shift()
        stats.dropped++
      }
    },
    stats: () => ({ ...stats }),
    close(code = CLOSE_NORMAL, reason = '') {
      if (code !== CLOSE_NORMAL && !(code >= CLOSE_LIBRARY_MIN && code <= CLOSE_APPLICATION_MAX)) {
        throw new RangeError(`Expected \`code\` to be 1000 or 3000-4999, got ${code}`)
      }
      if (state === 'closed' || state === 'refused') return
      const current = socket
      // First, so a reason the socket refuses (over 123 bytes) throws before anything has changed.
      current?.close(code, reason)
      socket = undefined
      closeForGood()
      if (current !== undefined) closeListeners.emit({ code, reason, willReconnect: false })
    },
  }
  openSocket()
  return connection
}
