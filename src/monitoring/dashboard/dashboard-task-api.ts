import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

import type { ChannelLayer } from '../../layers/channel-layer.js'
import { CANCELLABLE_STATUSES, hasTaskStore } from '../../tasks/task-store.js'
import { refuse } from './dashboard-api.js'

/** `POST <path>api/tasks/cancel`'s reply: the status before (`layer.tasks.cancel`), and whether this call cancelled. */
export interface CancelTaskReply {
  readonly taskId: string
  readonly before: string
  readonly cancelled: boolean
}

/**
 * The dashboard's task actions, relative to its path: `api/tasks/cancel` (POST, JSON `{ "taskId": "..." }`). The id
 * travels in the body, not the URL, as ids are free text. The dashboard's guard (token, Host, CSRF on every POST)
 * applies as to the dead-letter actions. Replies 404 for an unknown id or a layer without a task store.
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
}

async function cancelTask(
  layer: ChannelLayer,
  request: FastifyRequest<{ Body: unknown }>,
  reply: FastifyReply,
): Promise<unknown> {
  if (!hasTaskStore(layer)) return refuse(reply, 404, 'no-task-store', 'this channel layer keeps no tasks')
  const body = request.body
  const taskId =
    typeof body === 'object' && body !== null && Object.hasOwn(body, 'taskId')
      ? (body as { taskId: unknown }).taskId
      : undefined
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
