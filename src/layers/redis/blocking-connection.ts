import type { Redis } from 'ioredis'

import { waitReady } from './wait-ready.js'

/** What one blocking pop took: the key, and its members and scores alternating (as ZPOPMIN replies). */
export interface Popped {
  readonly key: string
  readonly entries: readonly Buffer[]
}

/**
 * A shard's connection for the reader's blocking pops (inbound.ts), one command at a time: its own RESP
 * connection where it can be (resp-connection.ts), an ioredis client where that does not speak what the server
 * needs (TLS, Sentinel).
 */
export interface BlockingConnection {
  /** `'ready'` once commands can be sent. */
  readonly status: string
  /** Resolves once ready, closed for good, or at `deadline` (epoch ms), whichever comes first. */
  whenReady(deadline: number): Promise<void>
  /** The connection's CLIENT ID, for CLIENT UNBLOCK. */
  clientId(): Promise<number>
  /** BZMPOP `timeoutSeconds` over `keys`, MIN, up to `count`: null on timeout (Redis 7+). */
  popMany(keys: readonly string[], count: number, timeoutSeconds: number): Promise<Popped | null>
  /** BZPOPMIN over `keys`: null on timeout. */
  popOne(keys: readonly string[], timeoutSeconds: number): Promise<Popped | null>
  /** ZPOPMIN `key` `count`: members and scores alternating. */
  take(key: string, count: number): Promise<Buffer[]>
  disconnect(): void
}

/** What a blocking connection reports to its shard. */
export interface BlockingEvents {
  onError(error: Error): void
  /** The connection closed: its CLIENT ID is gone (a new connection gets a new one). */
  onClose(): void
}

/** An ioredis client as a blocking connection. */
export class IoredisBlocking implements BlockingConnection {
  constructor(
    private readonly client: Redis,
    events: BlockingEvents,
  ) {
    // Every read waiting for a reconnect listens for 'ready'/'end' until it resolves.
    client.setMaxListeners(0)
    client.on('error', (error: Error) => {
      events.onError(error)
    })
    // On 'close', not 'ready': ioredis emits 'ready' a tick after the connection is usable, and CLIENT (allowed
    // during the handshake) may already have fetched the new ID by then; clearing it would leave that first blocking
    // read un-unblockable for BLOCK_SECONDS. No new connection exists before 'close' has been emitted.
    client.on('close', () => {
      events.onClose()
    })
  }

  get status(): string {
    return this.client.status
  }

  whenReady(deadline: number): Promise<void> {
    return waitReady(this.client, deadline)
  }

  async clientId(): Promise<number> {
    return this.client.client('ID')
  }

  async popMany(keys: readonly string[], count: number, timeoutSeconds: number): Promise<Popped | null> {
    return poppedFromBzmpop(
      await this.client.callBuffer('BZMPOP', timeoutSeconds, keys.length, ...keys, 'MIN', 'COUNT', count),
    )
  }

  async popOne(keys: readonly string[], timeoutSeconds: number): Promise<Popped | null> {
    return poppedFromBzpopmin(await this.client.bzpopminBuffer(...keys, timeoutSeconds))
  }

  take(key: string, count: number): Promise<Buffer[]> {
    return this.client.zpopminBuffer(key, count)
  }

  disconnect(): void {
    this.client.disconnect()
  }
}

/** BZPOPMIN's reply: null on timeout, else `[key, member, score]`. */
export function poppedFromBzpopmin(reply: unknown): Popped | null {
  if (!Array.isArray(reply)) return null
  const [key, member, score] = reply as [Buffer, Buffer, Buffer]
  return { key: key.toString(), entries: [member, score] }
}

/** BZMPOP's reply (RESP2): null on timeout, else `[key, [[member, score], ...]]`. */
export function poppedFromBzmpop(reply: unknown): Popped | null {
  if (!Array.isArray(reply)) return null
  const [key, pairs] = reply as [Buffer, [Buffer, Buffer][]]
  return { key: key.toString(), entries: pairs.flat() }
}
