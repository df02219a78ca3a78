import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

import { assertChannelName } from '../../layers/names.js'
import type { ChannelLayer } from '../../layers/channel-layer.js'
import type {} from '../../server/plugin.js'
import type { ServerStats } from '../../server/server-stats.js'
import { hasTaskStore, type TaskStore } from '../../tasks/task-store.js'
import type { BacklogAlert, BacklogMonitor } from '../backlog-monitor.js'
import type { LayerSnapshot } from '../../layers/snapshot.js'
import type { HistoryPoint } from './history.js'
import type { StateSampler } from './state-sampler.js'

/** `GET <path>api/state`. */
export interface DashboardState {
  /** Null when the layer has no `inspect()`. */
  readonly snapshot: LayerSnapshot | null
  /**
   * This server's live WebSocket and HTTP counters, under its id in `snapshot.servers` (which lists every server
   * that reported); null when the `switchyard` plugin is not registered on the app.
   */
  readonly connections: { readonly server: string; readonly stats: ServerStats } | null
  /** The backlog monitor's latest alerts (channels over threshold); null when the dashboard has no monitor. */
  readonly backlog: { readonly alerts: readonly BacklogAlert[] } | null
  /** Channels holding dead letters; empty when the layer has no task store. */
  readonly deadLetterChannels: readonly string[]
  readonly history: readonly HistoryPoint[]
  readonly sampleIntervalMs: number
}

/** Dead letters listed per channel, newest first. */
export const DEAD_LETTER_LIST_LIMIT = 100

type ChannelParams = { readonly channel: string }

/**
 * The dashboard's JSON API, relative to the dashboard's path: `api/state`, and per channel
 * `api/dead-letters/:channel` (GET), `.../:id` (GET), `.../replay` and `.../purge` (POST, JSON).
 *
 * @example
 * ```ts
 * await app.register(async (routes) => registerDashboardApi(routes, { path: '/switchyard/', layer, sampler }))
 * ```
 */
export function registerDashboardApi(
  routes: FastifyInstance,
  context: {
    readonly path: string
    readonly layer: ChannelLayer
    readonly sampler: StateSampler
    readonly sampleIntervalMs: number
    readonly backlog?: BacklogMonitor | undefined
  },
): void {
  const { path, layer, sampler, sampleIntervalMs, backlog } = context
  const api = `${path}api`

  routes.get(`${api}/state`, async (): Promise<DashboardState> => {
    const [snapshot, deadLetterChannels] = await Promise.all([
      sampler.snapshot(),
      hasTaskStore(layer) ? layer.tasks.deadLetterChannels() : [],
    ])
    const connections = routes.hasDecorator('switchyard')
      ? { server: routes.switchyard.serverId(), stats: routes.switchyard.stats() }
      : null
    return {
      snapshot,
      connections,
      backlog: backlog === undefined ? null : { alerts: backlog.alerts },
      deadLetterChannels,
      history: sampler.history(),
      sampleIntervalMs,
    }
  })

  routes.get<{ Params: ChannelParams }>(`${api}/dead-letters/:channel`, async (request, reply) => {
    const store = taskStoreFor(layer, request, reply)
    if (store === undefined) return reply
    const deadLetters = await store.listDeadLetters(request.params.channel, { limit: DEAD_LETTER_LIST_LIMIT })
    return { channel: request.params.channel, deadLetters }
  })

  routes.get<{ Params: ChannelParams & { readonly id: string } }>(
    `${api}/dead-letters/:channel/:id`,
    async (request, reply) => {
      const store = taskStoreFor(layer, request, reply)
      if (store === undefined) return reply
      const deadLetter = await store.getDeadLetter(request.params.channel, request.params.id)
      if (deadLetter === undefined) return refuse(reply, 404, 'not-found', 'no such dead letter on this channel')
      return { deadLetter }
    },
  )

  routes.post<{ Params: ChannelParams; Body: unknown }>(
    `${api}/dead-letters/:channel/replay`,
    async (request, reply) => {
      const store = taskStoreFor(layer, request, reply)
      if (store === undefined) return reply
      if (!isObject(request.body)) return refuse(reply, 400, 'bad-request', 'Expected a JSON object body')
      const ids = field(request.body, 'ids')
      if (ids !== undefined && !(Array.isArray(ids) && ids.every((id) => typeof id === 'string'))) {
        return refuse(reply, 400, 'bad-request', 'Expected `ids` to be an array of dead letter ids, or absent for all')
      }
      const replayed = await store.replayDeadLetters(request.params.channel, ids)
      request.log.info({ channel: request.params.channel, replayed }, 'dashboard replayed dead letters')
      return { replayed }
    },
  )

  routes.post<{ Params: ChannelParams; Body: unknown }>(
    `${api}/dead-letters/:channel/purge`,
    async (request, reply) => {
      const store = taskStoreFor(layer, request, reply)
      if (store === undefined) return reply
      if (!isObject(request.body)) return refuse(reply, 400, 'bad-request', 'Expected a JSON object body')
      const olderThanMs = field(request.body, 'olderThanMs')
      if (
        olderThanMs !== undefined &&
        !(typeof olderThanMs === 'number' && Number.isFinite(olderThanMs) && olderThanMs >= 0)
      ) {
        return refuse(
          reply,
          400,
          'bad-request',
          'Expected `olderThanMs` to be a non-negative number, or absent for all',
        )
      }
      const purged = await store.purgeDeadLetters(
        request.params.channel,
        olderThanMs === undefined ? {} : { olderThanMs },
      )
      request.log.info({ channel: request.params.channel, purged }, 'dashboard purged dead letters')
      return { purged }
    },
  )
}

/** A JSON error body: `{ error, message }`. */
export function refuse(reply: FastifyReply, status: number, error: string, message: string): FastifyReply {
  return reply.code(status).type('application/json; charset=utf-8').send({ error, message })
}

function taskStoreFor(
  layer: ChannelLayer,
  request: FastifyRequest<{ Params: ChannelParams }>,
  reply: FastifyReply,
): TaskStore | undefined {
  if (!hasTaskStore(layer)) {
    refuse(reply, 404, 'no-task-store', 'this channel layer keeps no dead letters')
    return undefined
  }
  try {
    assertChannelName(request.params.channel)
  } catch (error) {
    refuse(reply, 400, 'bad-channel', error instanceof Error ? error.message : 'invalid channel name')
    return undefined
  }
  return layer.tasks
}

function isObject(body: unknown): body is Readonly<Record<string, unknown>> {
  return typeof body === 'object' && body !== null && !Array.isArray(body)
}

function field(body: Readonly<Record<string, unknown>>, name: string): unknown {
  return Object.hasOwn(body, name) ? body[name] : undefined
}
