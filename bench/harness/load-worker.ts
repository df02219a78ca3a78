/**
 * A load-generator process: opens WebSocket clients of the system's wire (wire-client.ts) and runs one workload
 * phase per IPC message (`*.connect`, then `go`, or `fanout.finish` and `fanout.reset`). Started by load-generators.ts, one or two per
 * run.
 */
import type { Wire } from '../systems/systems.js'
import { nowMs, onParentMessage, sendToParent, type IpcMessage } from './ipc.js'
import type {
  EchoConnect,
  EchoDone,
  FanoutConnect,
  FanoutDone,
  FanoutFinish,
  FanoutPayload,
  FanoutReset,
} from './load-protocol.js'
import { openClient, type WireClient } from './wire-client.js'

let sockets: WireClient[] = []

/** Opens `count` clients, at most 100 handshakes in flight so the server's accept queue is not the test. */
async function openMany(wire: Wire, url: string, count: number): Promise<WireClient[]> {
  // The previous workload's sockets (its server is gone by now) must not linger.
  for (const socket of sockets) socket.terminate()
  const opened: WireClient[] = []
  for (let i = 0; i < count; i += 100) {
    const batch = Array.from({ length: Math.min(100, count - i) }, () => openClient(wire, url))
    opened.push(...(await Promise.all(batch)))
  }
  return opened
}

function nextPayload(socket: WireClient): Promise<FanoutPayload> {
  return new Promise((resolve, reject) => {
    socket.onPayload(resolve)
    socket.onClose((code) => {
      reject(new Error(`socket closed with ${code} during an echo`))
    })
  })
}

async function echoLoop(socket: WireClient, roundTrips: number, latencies: number[]): Promise<void> {
  for (let seq = 0; seq < roundTrips; seq++) {
    const sentAt = nowMs()
    const reply = nextPayload(socket)
    socket.send({ seq, sentAt })
    const { seq: echoed } = await reply
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
    clients: readonly WireClient[],
    readonly messages: number,
  ) {
    this.seen = clients.map(() => new Uint8Array(messages))
    clients.forEach((socket, index) => {
      socket.onPayload((payload) => {
        this.record(index, payload)
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
      sockets = await openMany(echo.wire, echo.url, echo.connections)
      sendToParent({ kind: 'connected' })
      return
    }
    case 'fanout.connect': {
      const task = message as FanoutConnect
      sockets = await openMany(task.wire, task.url, task.clients)
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
    case 'fanout.reset': {
      // After the warm-up: the same clients, counting from zero again.
      if (fanout === undefined) throw new Error('fanout.reset before fanout.connect')
      fanout = new FanoutCollector(sockets, (message as FanoutReset).messages)
      sendToParent({ kind: 'fanout.reset' })
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
