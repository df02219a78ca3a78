/**
 * A load-generator process: opens WebSocket clients with `ws` and runs one workload phase per IPC message
 * (`*.connect`, then `go` or `fanout.finish`). Started by load-generators.ts, one or two per run.
 */
import WebSocket from 'ws'

import { nowMs, onParentMessage, sendToParent, type IpcMessage } from './ipc.js'
import type { EchoConnect, EchoDone, FanoutConnect, FanoutDone, FanoutFinish, FanoutPayload } from './load-protocol.js'

const CONNECT_TIMEOUT_MS = 15_000

let sockets: WebSocket[] = []

function text(data: WebSocket.RawData): string {
  if (Buffer.isBuffer(data)) return data.toString()
  return Array.isArray(data) ? Buffer.concat(data).toString() : Buffer.from(data).toString()
}

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: false })
    const timer = setTimeout(() => {
      socket.terminate()
      reject(new Error(`connecting to ${url} took over ${CONNECT_TIMEOUT_MS} ms`))
    }, CONNECT_TIMEOUT_MS)
    socket.once('open', () => {
      clearTimeout(timer)
      resolve(socket)
    })
    socket.once('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
  })
}

/** Opens `count` sockets, at most 100 handshakes in flight so the server's accept queue is not the test. */
async function openMany(url: string, count: number): Promise<WebSocket[]> {
  // The previous workload's sockets (its server is gone by now) must not linger.
  for (const socket of sockets) socket.terminate()
  const opened: WebSocket[] = []
  for (let i = 0; i < count; i += 100) {
    const batch = Array.from({ length: Math.min(100, count - i) }, () => open(url))
    opened.push(...(await Promise.all(batch)))
  }
  return opened
}

function nextText(socket: WebSocket): Promise<string> {
  return new Promise((resolve, reject) => {
    const onMessage = (data: WebSocket.RawData): void => {
      socket.off('close', onClose)
      resolve(text(data))
    }
    const onClose = (code: number): void => {
      socket.off('message', onMessage)
      reject(new Error(`socket closed with ${code} during an echo`))
    }
    socket.once('message', onMessage)
    socket.once('close', onClose)
  })
}

async function echoLoop(socket: WebSocket, roundTrips: number, latencies: number[]): Promise<void> {
  for (let seq = 0; seq < roundTrips; seq++) {
    const sentAt = nowMs()
    const reply = nextText(socket)
    socket.send(JSON.stringify({ seq, sentAt }))
    const { seq: echoed } = JSON.parse(await reply) as FanoutPayload
    if (echoed !== seq) throw new Error(`echo returned seq ${echoed}, expected ${seq}`)
    latencies.push(nowMs() - sentAt)
  }
}

let echo: EchoConnect | undefined
let fanout: FanoutCollector | undefined

/** Per-client sequence tracking for one fan-out run. */
class FanoutCollector {
  readonly latenciesMs: number[] = []
  private readonly seen: Uint8Array[]
  private duplicated = 0
  private received = 0
  private lastReceiveAt = 0
  private onProgress: (() => void) | undefined

  constructor(
    clients: readonly WebSocket[],
    private readonly messages: number,
  ) {
    this.seen = clients.map(() => new Uint8Array(messages))
    clients.forEach((socket, index) => {
      socket.on('message', (data: WebSocket.RawData) => {
        this.record(index, JSON.parse(text(data)) as FanoutPayload)
      })
    })
  }

  private record(client: number, { seq, sentAt }: FanoutPayload): void {
    const at = nowMs()
    this.lastReceiveAt = at
    const seen = this.seen[client]
    if (seen === undefined || seq < 0 || seq >= this.messages) throw new Error(`unexpected seq ${seq}`)
    if (seen[seq] === 1) {
      this.duplicated++
    } else {
      seen[seq] = 1
      this.received++
      this.latenciesMs.push(at - sentAt)
    }
    this.onProgress?.()
  }

  /** Resolves when every client has every message, or after `idleMs` without a delivery. */
  async settle(idleMs: number): Promise<FanoutDone> {
    const expected = this.seen.length * this.messages
    await new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined
      const check = (): void => {
        clearTimeout(timer)
        if (this.received >= expected) resolve()
        else timer = setTimeout(resolve, idleMs)
      }
      this.onProgress = () => {
        if (this.received >= expected) check()
      }
      check()
    })
    this.onProgress = undefined
    return {
      kind: 'fanout.done',
      latenciesMs: this.latenciesMs,
      received: this.received,
      lost: expected - this.received,
      duplicated: this.duplicated,
      lastReceiveAt: this.lastReceiveAt,
    }
  }
}

onParentMessage(async (message: IpcMessage) => {
  switch (message.kind) {
    case 'echo.connect': {
      echo = message as EchoConnect
      sockets = await openMany(echo.url, echo.connections)
      sendToParent({ kind: 'connected' })
      return
    }
    case 'fanout.connect': {
      const task = message as FanoutConnect
      sockets = await openMany(task.url, task.clients)
      fanout = new FanoutCollector(sockets, task.messages)
      sendToParent({ kind: 'connected' })
      return
    }
    case 'go': {
      if (echo === undefined) throw new Error('go before echo.connect')
      const latenciesMs: number[] = []
      const startAt = nowMs()
      const { roundTrips } = echo
      await Promise.all(sockets.map((socket) => echoLoop(socket, roundTrips, latenciesMs)))
      const done: EchoDone = { kind: 'echo.done', latenciesMs, startAt, endAt: nowMs() }
      sendToParent(done)
      return
    }
    case 'fanout.finish': {
      if (fanout === undefined) throw new Error('fanout.finish before fanout.connect')
      sendToParent(await fanout.settle((message as FanoutFinish).idleMs))
      return
    }
    case 'close': {
      for (const socket of sockets) socket.terminate()
      process.exit(0)
    }
  }
})
