import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

import { assertChannelName } from '../../layers/names.js'
import type { ChannelLayer } from '../../layers/channel-layer.js'
import type {} from '../../server/plugin.js'
import type { ServerStats } from '../../server/server-stats.js'
import { hasTaskStore, type TaskStore } from '../../tasks/task-store.js'
import type { BacklogAlert, BacklogMonitor } from '../backlog-monitor.js'
import type { LayerSnapshot } from '../../layers/snapshot.js'
import { dashboardSchedules, type DashboardSchedule } from './dashboard-schedules.js'
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
  /** The layer's periodic tasks with their next and last runs (no payloads); empty without a task store. */
  readonly schedules: readonly DashboardSchedule[]
  readonly history: readonly HistoryPoint[]
  readonly sampleIntervalMs: number
}

/** Dead letters listed per channel, newest first. */
export const DEAD_LETTER_LIST_LIMIT = 100

type ChannelParams = { readonly channel: string }
/** The routes under `dead-letters/:channel`; POST bodies are checked by the handler, not trusted by type. */
type ChannelRoute = { Params: ChannelParams; Body: unknown }
type DeadLetterRoute = { Params: ChannelParams & { readonly id: string } }

/** What the API serves: the layer, the sampler that keeps its history, and the monitor whose alerts it shows. */
interface DashboardApiContext {
  readonly path: string
  readonly layer: ChannelLayer
  readonly sampler: StateSampler
  readonly sampleIntervalMs: number
  readonly backlog?: BacklogMonitor | undefined
}

/**
 * The dashboard's JSON API, relative to the dashboard's path: `api/state`, and per channel
 * `api/dead-letters/:channel` (GET), `.../:id` (GET), `.../replay` and `.../purge` (POST, JSON).
 *
 * @example
 * ```ts
 * await app.register(async (routes) => registerDashboardApi(routes, { path: '/switchyard/', layer, sampler }))
 * ```
 */
export function registerDashboardApi(routes: FastifyInstance, context: DashboardApiContext): void {
  const api = `${context.path}api`
  routes.get(`${api}/state`, async (): Promise<DashboardState> => dashboardState(routes, context))

  const { layer } = context
  routes.get<ChannelRoute>(`${api}/dead-letters/:channel`, withTaskStore(layer, listDeadLetters))
  routes.get<DeadLetterRoute>(`${api}/dead-letters/:channel/:id`, withTaskStore(layer, showDeadLetter))
  routes.post<ChannelRoute>(`${api}/dead-letters/:channel/replay`, withTaskStore(layer, replayDeadLetters))
  routes.post<ChannelRoute>(`${api}/dead-letters/:channel/purge`, withTaskStore(layer, purgeDeadLetters))
}

async function dashboardState(
  routes: FastifyInstance,
  { layer, sampler, sampleIntervalMs, backlog }: DashboardApiContext,
): Promise<DashboardState> {
  const [snapshot, deadLetterChannels, schedules] = await Promise.all([
    sampler.snapshot(),
    hasTaskStore(layer) ? layer.tasks.deadLetterChannels() : [],
    hasTaskStore(layer) ? dashboardSchedules(layer.tasks) : [],
  ])
  const connections = routes.hasDecorator('switchyard')
    ? { server: routes.switchyard.serverId(), stats: routes.switchyard.stats() }
    : null
  return {
    snapshot,
    connections,
    backlog: backlog === undefined ? null : { alerts: backlog.alerts },
    deadLetterChannels,
    schedules,
    history: sampler.history(),
    sampleIntervalMs,
  }
}

/** A dead-letter handler, run with the layer's task store once the `:channel` parameter is checked. */
type StoreHandler<R extends { Params: ChannelParams }> = (
  store: TaskStore,
  request: FastifyRequest<R>,
  reply: FastifyReply,
) => Promise<unknown>

/** The handler behind the shared refusals: 404 when the layer keeps no dead letters, 400 for a bad channel name. */
function withTaskStore<R extends { Params: ChannelParams }>(layer: ChannelLayer, handle: StoreHandler<R>) {
  return async (request: FastifyRequest<R>, reply: FastifyReply): Promise<unknown> => {
    // Fastify's request type does not narrow through the generic; R's Params extend ChannelParams.
    const store = taskStoreFor(layer, (request.params as ChannelParams).channel, reply)
    if (store === undefined) return reply
    return handle(store, request, reply)
  }
}

async function listDeadLetters(store: TaskStore, request: FastifyRequest<ChannelRoute>): Promise<unknown> {
  const deadLetters = await store.listDeadLetters(request.params.channel, { limit: DEAD_LETTER_LIST_LIMIT })
  return { channel: request.params.channel, deadLetters }
}

async function showDeadLetter(
  store: TaskStore,
  request: FastifyRequest<DeadLetterRoute>,
  reply: FastifyReply,
): Promise<unknown> {
  const deadLetter = await store.getDeadLetter(request.params.channel, request.params.id)
  if (deadLetter === undefined) return refuse(reply, 404, 'not-found', 'no such dead letter on this channel')
  return { deadLetter }
}

async function replayDeadLetters(
  store: TaskStore,
  request: FastifyRequest<ChannelRoute>,
  reply: FastifyReply,
): Promise<unknown> {
  const ids = replayIds(request.body)
  if (typeof ids === 'string') return refuse(reply, 400, 'bad-request', ids)
  const replayed = await store.replayDeadLetters(request.params.channel, ids.ids)
  request.log.info({ channel: request.params.channel, replayed }, 'dashboard replayed dead letters')
  return { replayed }
}

async function purgeDeadLetters(
  store: TaskStore,
  request: FastifyRequest<ChannelRoute>,
  reply: FastifyReply,
): Promise<unknown> {
  const age = purgeAge(request.body)
  if (typeof age === 'string') return refuse(reply, 400, 'bad-request', age)
  const { olderThanMs } = age
  const purged = await store.purgeDeadLetters(request.params.channel, olderThanMs === undefined ? {} : { olderThanMs })
  request.log.info({ channel: request.params.channel, purged }, 'dashboard purged dead letters')
  return { purged }
}

/** The replay body's `ids` (absent: every dead letter of the channel), or why the body is refused. */
function replayIds(body: unknown): { readonly ids: string[] | undefined } | string {
  if (!isObject(body)) return 'Expected a JSON object body'
  const ids = field(body, 'ids')
  if (ids === undefined) return { ids }
  if (Array.isArray(ids) && ids.every((id) => typeof id === 'string')) return { ids }
  return 'Expected `ids` to be an array of dead letter ids, or absent for all'
}

/** The purge body's `olderThanMs` (absent: every dead letter of the channel), or why the body is refused. */
function purgeAge(body: unknown): { readonly olderThanMs: number | undefined } | string {
  if (!isObject(body)) return 'Expected a JSON object body'
  const olderThanMs = field(body, 'olderThanMs')
  if (olderThanMs === undefined) return { olderThanMs }
  if (typeof olderThanMs === 'number' && Number.isFinite(olderThanMs) && olderThanMs >= 0) return { olderThanMs }
  return 'Expected `olderThanMs` to be a non-negative number, or absent for all'
}

/** A JSON error body: `{ error, message }`. */
export function refuse(reply: FastifyReply, status: number, error: string, message: string): FastifyReply {
  return reply.code(status).type('application/json; charset=utf-8').send({ error, message })
}

function taskStoreFor(layer: ChannelLayer, channel: string, reply: FastifyReply): TaskStore | undefined {
  if (!hasTaskStore(layer)) {
    refuse(reply, 404, 'no-task-store', 'this channel layer keeps no dead letters')
    return undefined
  }
  try {
    assertChannelName(channel)
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
