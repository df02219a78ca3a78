import { connect, type Socket } from 'node:net'

import {
  poppedFromBzmpop,
  poppedFromBzpopmin,
  type BlockingConnection,
  type BlockingEvents,
  type Popped,
} from './blocking-connection.js'
import { reconnectDelayMs } from './connection-health.js'
import { RespParser, RespReplyError, type RespReply } from './resp-parser.js'

/** Where a blocking connection goes and who it logs in as: a Redis server's address, as ioredis parsed its URL. */
export interface RespTarget {
  readonly host?: string
  readonly port?: number
  /** A unix socket instead of host and port. */
  readonly path?: string
  readonly family?: number
  readonly username?: string
  readonly password?: string
  readonly db?: number
  readonly connectionName: string
  readonly connectTimeoutMs: number
}

interface Pending {
  readonly resolve: (reply: RespReply) => void
  readonly reject: (error: Error) => void
}

/** What `ioredis` says of a command sent while it is not connected: `neverSent()` knows it (redis-shard.ts). */
const NOT_CONNECTED = "Stream isn't writeable: the blocking connection is not connected"

/**
 * The reader's blocking connection to one Redis server, speaking RESP2 itself on a plain socket (TCP or unix):
 * logs in (AUTH, SELECT, CLIENT SETNAME, and CLIENT ID in the same round trip), sends one command at a time, and
 * reconnects by itself with the backoff every connection of the layer uses.
 *
 * Why not an ioredis client as for every other command: a process that waits for a paced group message wakes once
 * per message, and one command and its reply through ioredis cost about 200 µs of CPU on such a cold wake, against
 * next to nothing for the same bytes written and parsed here (bench/tools/wake-cost.ts, docs/performance/). That is
 * the reader's whole cost per wake beyond the socket's, and about 1 µs per delivery of a broadcast to 200 members.
 * TLS and Sentinel keep ioredis' connection (IoredisBlocking): they are not on this path.
 */
export class RespConnection implements BlockingConnection {
  private state: 'connecting' | 'ready' | 'reconnecting' | 'end' = 'connecting'
  private socket: Socket | undefined
  private pending: Pending[] = []
  private id: number | undefined
  private attempts = 0
  private reconnectTimer: NodeJS.Timeout | undefined
  private readonly readyWaiters = new Set<() => void>()

  constructor(
    private readonly target: RespTarget,
    private readonly events: BlockingEvents,
  ) {
    this.connect()
  }

  get status(): string {
    return this.state
  }

  async whenReady(deadline: number): Promise<void> {
    if (this.state === 'ready' || this.state === 'end') return
    const remaining = deadline - Date.now()
    if (remaining <= 0) return
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        this.readyWaiters.delete(done)
        resolve()
      }
      const timer = setTimeout(done, remaining)
      this.readyWaiters.add(done)
    })
  }

  async clientId(): Promise<number> {
    // Fetched with the login: no round trip.
    if (this.state === 'ready' && this.id !== undefined) return this.id
    const reply = await this.command(['CLIENT', 'ID'])
    return Number(reply)
  }

  async popMany(keys: readonly string[], count: number, timeoutSeconds: number): Promise<Popped | null> {
    return poppedFromBzmpop(await this.command(['BZMPOP', timeoutSeconds, keys.length, ...keys, 'MIN', 'COUNT', count]))
  }

  async popOne(keys: readonly string[], timeoutSeconds: number): Promise<Popped | null> {
    return poppedFromBzpopmin(await this.command(['BZPOPMIN', ...keys, timeoutSeconds]))
  }

  async take(key: string, count: number): Promise<Buffer[]> {
    const reply = await this.command(['ZPOPMIN', key, count])
    return Array.isArray(reply) ? (reply as Buffer[]) : []
  }

  /** Closes for good: what is in flight fails as a closed connection's commands do, and it does not reconnect. */
  disconnect(): void {
    if (this.state === 'end') return
    this.state = 'end'
    clearTimeout(this.reconnectTimer)
    this.socket?.destroy()
    this.failPending()
    this.wakeReadyWaiters()
  }

  private command(args: readonly (string | number)[]): Promise<RespReply> {
    const socket = this.socket
    if (this.state !== 'ready' || socket === undefined) return Promise.reject(new Error(NOT_CONNECTED))
    socket.write(encodeCommand(args))
    return this.nextReply()
  }

  /** The reply to the next command written (replies come in the order commands went out). */
  private nextReply(): Promise<RespReply> {
    return new Promise<RespReply>((resolve, reject) => {
      this.pending.push({ resolve, reject })
    })
  }

  private connect(): void {
    const { target } = this
    const socket =
      target.path === undefined
        ? connect({ host: target.host ?? '127.0.0.1', port: target.port ?? 6379, family: target.family ?? 0 })
        : connect(target.path)
    this.socket = socket
    socket.setNoDelay(true)
    socket.setKeepAlive(true, 30_000)
    socket.setTimeout(target.connectTimeoutMs)
    socket.once('timeout', () => {
      socket.destroy(new Error('connect ETIMEDOUT'))
    })
    const parser = new RespParser((reply) => {
      this.onReply(reply)
    })
    socket.on('data', (chunk: Buffer) => {
      try {
        parser.push(chunk)
      } catch (error) {
        socket.destroy(error instanceof Error ? error : new Error('Protocol error', { cause: error }))
      }
    })
    socket.on('error', (error) => {
      if (this.state !== 'end') this.events.onError(error)
    })
    socket.once('close', () => {
      this.onClosed(socket)
    })
    socket.once('connect', () => {
      socket.setTimeout(0)
      void this.logIn(socket)
    })
  }

  /** AUTH, SELECT, CLIENT SETNAME and CLIENT ID in one write; ready once all four answered. */
  private async logIn(socket: Socket): Promise<void> {
    const { target } = this
    const commands: (string | number)[][] = []
    // As ioredis logs in: an empty or absent password (null in its parsed options) means no AUTH.
    const { username, password } = target
    if (typeof password === 'string' && password !== '') {
      commands.push(typeof username === 'string' && username !== '' ? ['AUTH', username, password] : ['AUTH', password])
    }
    if (typeof target.db === 'number' && target.db !== 0) commands.push(['SELECT', target.db])
    commands.push(['CLIENT', 'SETNAME', target.connectionName], ['CLIENT', 'ID'])
    socket.write(commands.map(encodeCommand).join(''))
    const replies = await Promise.allSettled(commands.map(() => this.nextReply()))
    if (socket !== this.socket || this.state === 'end') return
    const failed = replies.find((reply) => reply.status === 'rejected')
    if (failed !== undefined) {
      // A wrong password, an unknown database: reported, and tried again with backoff, as ioredis does.
      socket.destroy(failed.reason instanceof Error ? failed.reason : new Error('Redis refused the login'))
      return
    }
    const last = replies[replies.length - 1]
    this.id = last?.status === 'fulfilled' ? Number(last.value) : undefined
    this.state = 'ready'
    this.attempts = 0
    this.wakeReadyWaiters()
  }

  private onReply(reply: RespReply): void {
    const pending = this.pending.shift()
    if (pending === undefined) return
    if (reply instanceof RespReplyError) pending.reject(reply)
    else pending.resolve(reply)
  }

  private onClosed(socket: Socket): void {
    if (socket !== this.socket) return
    this.socket = undefined
    this.id = undefined
    this.failPending()
    this.events.onClose()
    if (this.state === 'end') return
    this.state = 'reconnecting'
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined
      if (this.state === 'reconnecting') this.connect()
    }, reconnectDelayMs(++this.attempts))
  }

  private failPending(): void {
    const pending = this.pending
    this.pending = []
    // ioredis' words for a command cut off by the connection's end: `isConnectionError()` knows them.
    for (const command of pending) command.reject(new Error('Connection is closed.'))
  }

  private wakeReadyWaiters(): void {
    for (const wake of [...this.readyWaiters]) wake()
  }
}

/** One command as RESP2 (an array of bulk strings), its lengths in bytes. */
function encodeCommand(args: readonly (string | number)[]): string {
  let text = `*${args.length}\r\n`
  for (const arg of args) {
    const value = String(arg)
    text += `$${Buffer.byteLength(value)}\r\n${value}\r\n`
  }
  return text
}
