import type { LayerStats } from './channel-layer.js'
import type { ServerSnapshot, WorkerSnapshot } from '../tasks/process-registry.js'

export type { ServerSnapshot, WorkerSnapshot } from '../tasks/process-registry.js'

/** One channel as `inspect()` sees it. */
export interface ChannelSnapshot {
  readonly name: string
  /** Messages waiting in the queue. */
  readonly backlog: number
  /** Task claims being worked on (RetryingConsumer). */
  readonly inFlight: number
  /** Delayed sends and retries waiting for their time. */
  readonly delayed: number
  readonly deadLetters: number
}

export interface GroupSnapshot {
  readonly name: string
  readonly members: number
  /** Members per owning process (the non-local part, `specific.<id>!`), or the channel itself for plain names. */
  readonly byProcess: readonly { readonly process: string; readonly members: number }[]
}

/** What `layer.inspect()` returns: everything monitoring shows, read through the layer. */
export interface LayerSnapshot {
  readonly takenAt: number
  readonly channels: readonly ChannelSnapshot[]
  readonly groups: readonly GroupSnapshot[]
  readonly workers: readonly WorkerSnapshot[]
  /** Servers that reported to the layer's task store (every process on a Redis prefix), sorted by id. */
  readonly servers: readonly ServerSnapshot[]
  /** This layer instance's counters. */
  readonly stats: LayerStats
  /** Set when `maxChannels` or `maxGroups` cut the lists short. */
  readonly truncated?: boolean
}

/** Bounds on what `inspect()` reads. */
export interface InspectOptions {
  /**
   * Most channels reported.
   * @defaultValue 1000
   */
  readonly maxChannels?: number
  /**
   * Most groups reported.
   * @defaultValue 1000
   */
  readonly maxGroups?: number
}

/** How `purgeExpiredMemberships` runs. */
export interface PurgeOptions {
  /** Count what would be removed, remove nothing. */
  readonly dryRun?: boolean
  /** Called as groups are processed: `done` of `total` (known so far) groups. */
  readonly onProgress?: (done: number, total: number) => void
}

/** A layer that can describe its state (both built-in layers). */
export interface InspectableLayer {
  inspect(options?: InspectOptions): Promise<LayerSnapshot>
}

/** A layer whose expired group memberships can be removed on demand (both built-in layers; `switchyard purge`). */
export interface PurgeableLayer {
  purgeExpiredMemberships(options?: PurgeOptions): Promise<number>
}

export function isPurgeable(layer: unknown): layer is PurgeableLayer {
  return (
    typeof layer === 'object' &&
    layer !== null &&
    typeof (layer as { purgeExpiredMemberships?: unknown }).purgeExpiredMemberships === 'function'
  )
}

export function isInspectable(layer: unknown): layer is InspectableLayer {
  return typeof layer === 'object' && layer !== null && typeof (layer as { inspect?: unknown }).inspect === 'function'
}
