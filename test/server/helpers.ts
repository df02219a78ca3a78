import { Writable } from 'node:stream'

import { pino, type Logger } from 'pino'
import { afterEach, expect } from 'vitest'
import WebSocket from 'ws'

import type { Application, InputEvent, Receive, Send, WebsocketScope } from '../../src/application.js'
import { serve, type RunningServer, type ServeOptions } from '../../src/server/serve.js'

const running = new Set<RunningServer>()
const clients = new Set<WebSocket>()

afterEach(async () => {
  for (const client of clients) client.terminate()
  clients.clear()
  await Promise.all([...running].map((server) => server.close()))
  running.clear()
})

/** Serves `application` on 127.0.0.1 with a free port; closed after the test. */
export async function startServer(
  application: Application,
  options: Omit<ServeOptions, 'application'> = {},
): Promise<RunningServer> {
  const server = await serve({ application, port: 0, ...options })
  running.add(server)
  return server
}

export function wsUrl(server: RunningServer, path = '/ws/'): string {
  return `${server.url.replace(/^http/, 'ws')}${path}`
}

/** A client; terminated after the test. */
export function client(url: string, protocols?: string | string[], options?: WebSocket.ClientOptions): WebSocket {
  const socket = new WebSocket(url, protocols, options)
  clients.add(socket)
  socket.on('error', () => undefined) // tests assert on events, not on unhandled errors
  return socket
}

/** Opens a client; resolves with it and the upgrade response's headers. */
export function connect(
  url: string,
  protocols?: string | string[],
  options?: WebSocket.ClientOptions,
): Promise<{ socket: WebSocket; headers: Record<string, string | string[] | undefined> }> {
  const socket = client(url, protocols, options)
  return new Promise((resolve, reject) => {
    let headers: Record<string, string | string[] | undefined> = {}
    socket.once('upgrade', (response) => (headers = response.headers))
    socket.once('open', () => {
      resolve({ socket, headers })
    })
    socket.once('unexpected-response', (_request, response) => {
      reject(new Error(`handshake refused with HTTP ${response.statusCode}`))
    })
    socket.once('error', reject)
  })
}

/** The HTTP status a refused handshake got, and its body. */
export function refusal(
  url: string,
  protocols?: string | string[],
  options?: WebSocket.ClientOptions,
): Promise<{ status: number; body: string }> {
  const socket = client(url, protocols, options)
  return new Promise((resolve, reject) => {
    socket.once('open', () => {
      reject(new Error('the handshake was accepted'))
    })
    socket.once('unexpected-response', (_request, response) => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => (body += chunk))
      response.on('end', () => {
        resolve({ status: response.statusCode ?? 0, body })
      })
    })
  })
}

export function nextMessage(socket: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve) =>
    socket.once('message', (data, isBinary) => {
      resolve({ data: data as Buffer, isBinary })
    }),
  )
}

export function closed(socket: WebSocket): Promise<{ code: number; reason: string }> {
  if (socket.readyState === WebSocket.CLOSED) return Promise.reject(new Error('already closed'))
  return new Promise((resolve) =>
    socket.once('close', (code, reason) => {
      resolve({ code, reason: reason.toString() })
    }),
  )
}

/** Polls until `check` returns true; fails after `timeoutMs`. */
export async function waitFor(check: () => boolean, timeoutMs = 2000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** A pino logger whose lines land in `lines`, parsed. */
export function captureLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = []
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>)
      }
      callback()
    },
  })
  return { logger: pino({ level: 'debug' }, stream), lines }
}

/** A deferred promise, for apps that report what they saw. */
export function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => (resolve = r))
  return { promise, resolve }
}

/**
 * A WebSocket app in the shape most tests need: accepts (with `accept` fields), then hands each event after the
 * connect to `onEvent`, until a disconnect; `events` records what it received.
 */
export function websocketApp(
  onEvent: (event: InputEvent, send: Send, scope: WebsocketScope) => Promise<void> | void = () => undefined,
  events: InputEvent[] = [],
): Application {
  return async (scope, receive: Receive, send) => {
    if (scope.type !== 'websocket') throw new Error('websocket only')
    const connect = await receive()
    events.push(connect)
    await send({ type: 'websocket.accept' })
    for (;;) {
      const event = await receive()
      events.push(event)
      if (event.type === 'websocket.disconnect') return
      await onEvent(event, send, scope)
    }
  }
}

export const text = (value: string): Uint8Array => new TextEncoder().encode(value)

/** Asymmetric matchers typed as what they match, for `toMatchObject` on typed values. */
export const anyString = expect.any(String) as string
export const anyNumber = expect.any(Number) as number
