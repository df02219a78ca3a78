/** Fake applications, scopes and connections for router and middleware tests. */
import { pino } from 'pino'

import type {
  Application,
  ChannelScope,
  HttpScope,
  InputEvent,
  OutputEvent,
  Receive,
  Scope,
  Send,
  WebsocketScope,
} from '../../../src/application.js'
import type { Logger } from '../../../src/logger.js'

export interface Call {
  readonly name: string
  readonly scope: Scope
}

/** Named applications that record the scope they were called with, in call order. */
export function recorder(): { calls: Call[]; app: (name: string) => Application; last: () => Call } {
  const calls: Call[] = []
  return {
    calls,
    app: (name) => async (scope) => {
      calls.push({ name, scope })
    },
    last: () => {
      const call = calls.at(-1)
      if (call === undefined) throw new Error('no application was called')
      return call
    },
  }
}

export function wsScope(path = '/', fields: Partial<WebsocketScope> = {}): WebsocketScope {
  return { type: 'websocket', path, queryString: '', headers: [], subprotocols: [], ...fields }
}

export function httpScope(path = '/', fields: Partial<HttpScope> = {}): HttpScope {
  return { type: 'http', path, queryString: '', headers: [], method: 'GET', httpVersion: '1.1', ...fields }
}

export function channelScope(channel: string, fields: Partial<ChannelScope> = {}): ChannelScope {
  return { type: 'channel', channel, ...fields }
}

/**
 * Freezes the scope and the plain objects and arrays in it (not the logger), so any mutation by the code under test
 * throws.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value
  const proto: unknown = Object.getPrototypeOf(value)
  if (proto === Object.prototype || proto === null || Array.isArray(value)) {
    Object.freeze(value)
    for (const key of Reflect.ownKeys(value)) deepFreeze((value as Record<string | symbol, unknown>)[key])
  }
  return value
}

export const noReceive: Receive = () => Promise.reject(new Error('receive was not expected'))
export const noSend: Send = () => Promise.reject(new Error('send was not expected'))

/** A connection whose client sends `events` in order; `sent` collects what the application sends. */
export function connection(events: readonly InputEvent[]): { receive: Receive; send: Send; sent: OutputEvent[] } {
  const queue = [...events]
  const sent: OutputEvent[] = []
  return {
    receive: async () => {
      const event = queue.shift()
      if (event === undefined) throw new Error('the fake client has no more events')
      return event
    },
    send: async (event) => {
      sent.push(event)
    },
    sent,
  }
}

/** A real pino logger whose lines are parsed into `lines`. */
export function captureLogs(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = []
  const destination = {
    write(line: string) {
      lines.push(JSON.parse(line) as Record<string, unknown>)
    },
  }
  return { logger: pino({ level: 'debug' }, destination), lines }
}
