import { compareText, groupSnapshot, inspectLimit } from '../snapshot-parts.js'
import type { ChannelSnapshot, InspectOptions, LayerSnapshot, ServerSnapshot, WorkerSnapshot } from '../snapshot.js'
import type { LayerStats } from '../channel-layer.js'

/** What the in-memory layer shows `inspect()`: read-only views of its structures, taken at one instant. */
export interface MemoryLayerState {
  /** Queued messages per channel. */
  readonly queued: ReadonlyMap<string, number>
  /** Task claims per channel. */
  readonly inFlight: ReadonlyMap<string, number>
  /** The channel of each waiting delayed send or retry. */
  readonly delayed: Iterable<string>
  readonly deadLetters: ReadonlyMap<string, number>
  /** group -> its member channels. */
  readonly groups: ReadonlyMap<string, Iterable<string>>
  readonly workers: readonly WorkerSnapshot[]
  readonly servers: readonly ServerSnapshot[]
  readonly stats: LayerStats
}

/** The in-memory layer's snapshot: every channel with anything queued, claimed, delayed or dead, and every group. */
export function memorySnapshot(state: MemoryLayerState, options?: InspectOptions): LayerSnapshot {
  const maxChannels = inspectLimit('maxChannels', options?.maxChannels)
  const maxGroups = inspectLimit('maxGroups', options?.maxGroups)
  const delayed = new Map<string, number>()
  for (const channel of state.delayed) delayed.set(channel, (delayed.get(channel) ?? 0) + 1)
  const names = new Set([...state.queued.keys(), ...state.inFlight.keys(), ...delayed.keys()])
  for (const channel of state.deadLetters.keys()) names.add(channel)
  const channels: ChannelSnapshot[] = [...names]
    .sort(compareText)
    .slice(0, maxChannels)
    .map((name) => ({
      name,
      backlog: state.queued.get(name) ?? 0,
      inFlight: state.inFlight.get(name) ?? 0,
      delayed: delayed.get(name) ?? 0,
      deadLetters: state.deadLetters.get(name) ?? 0,
    }))
  const groupNames = [...state.groups.keys()].sort(compareText)
  const groups = groupNames.slice(0, maxGroups).map((name) => groupSnapshot(name, state.groups.get(name) ?? []))
  const truncated = names.size > maxChannels || groupNames.length > maxGroups
  return {
    takenAt: Date.now(),
    channels,
    groups,
    workers: state.workers,
    servers: state.servers,
    stats: state.stats,
    ...(truncated ? { truncated } : {}),
  }
}
