import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

import type { ChannelLayer } from '../../layers/channel-layer.js'
import { SCHEDULE_ID } from '../../tasks/schedules/schedule-options.js'
import { CANCELLABLE_STATUSES, hasTaskStore } from '../../tasks/task-store.js'
import { refuse } from './dashboard-api.js'

/** `POST <path>api/tasks/cancel`'s reply: the status before (`layer.tasks.cancel`), and whether this call cancelled. */
export interface CancelTaskReply {
  readonly taskId: string
  readonly before: string
  readonly cancelled: boolean
}

/** `POST <path>api/schedules/remove`'s reply (`layer.tasks.unschedule`); an unknown id is a 404 instead. */
export interface RemoveScheduleReply {
  readonly id: string
  readonly removed: true
}

/**
 * The dashboard's task actions, relative to its path: `api/tasks/cancel` (POST, JSON `{ "taskId": "..." }`) and
 * `api/schedules/remove` (POST, JSON `{ "id": "..." }`). Ids travel in the body, not the URL, as task ids are free
 * text. The dashboard's guard (token, Host, CSRF on every POST) applies as to the dead-letter actions. Replies 404
 * for an unknown id or a layer without a task store.
 *
 * @example
 * ```ts
 * registerTaskApi(routes, { path: '/switchyard/', layer })
 * ```
 */
export function registerTaskApi(
  routes: FastifyInstance,
  context: { readonly path: string; readonly layer: ChannelLayer },
): void {
  routes.post<{ Body: unknown }>(`${context.path}api/tasks/cancel`, async (request, reply) =>
    cancelTask(context.layer, request, reply),
  )
  routes.post<{ Body: unknown }>(`${context.path}api/schedules/remove`, async (request, reply) =>
    removeSchedule(context.layer, request, reply),
  )
}

async function cancelTask(
  layer: ChannelLayer,
  request: FastifyRequest<{ Body: unknown }>,
  reply: FastifyReply,
): Promise<unknown> {
  if (!hasTaskStore(layer)) return refuse(reply, 404, 'no-task-store', 'this channel layer keeps no tasks')
  const taskId = bodyField(request.body, 'taskId')
  if (typeof taskId !== 'string' || taskId === '' || taskId.length > 1000) {
    return refuse(reply, 400, 'bad-request', 'Expected `taskId` to be a non-empty string')
  }
  const before = await layer.tasks.cancel(taskId)
  if (before === undefined) return refuse(reply, 404, 'not-found', 'no such task (unknown, or its state expired)')
  const cancelled = CANCELLABLE_STATUSES.has(before)
  request.log.info({ taskId, before, cancelled }, 'dashboard cancelled a task')
  const result: CancelTaskReply = { taskId, before, cancelled }
  return result
}

async function removeSchedule(
  layer: ChannelLayer,
  request: FastifyRequest<{ Body: unknown }>,
  reply: FastifyReply,
): Promise<unknown> {
  if (!hasTaskStore(layer)) return refuse(reply, 404, 'no-task-store', 'this channel layer keeps no schedules')
  const id = bodyField(request.body, 'id')
  // Checked here, not left to unschedule's InvalidOptionError, so a bad body is a 400 and never a 500.
  if (typeof id !== 'string' || !SCHEDULE_ID.test(id)) {
    return refuse(reply, 400, 'bad-request', 'Expected `id` to be a schedule id (letters, digits, `.`, `_`, `-`)')
  }
  if (!(await layer.tasks.unschedule(id))) return refuse(reply, 404, 'not-found', 'no such schedule')
  request.log.info({ schedule: id }, 'dashboard removed a schedule')
  const result: RemoveScheduleReply = { id, removed: true }
  return result
}

/** A JSON object body's own field `name`; undefined for any other body. */
function bodyField(body: unknown, name: string): unknown {
  return typeof body === 'object' && body !== null && !Array.isArray(body) && Object.hasOwn(body, name)
    ? (body as Readonly<Record<string, unknown>>)[name]
    : undefined
}
