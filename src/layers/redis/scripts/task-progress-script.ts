// Typed wrapper of task-progress.lua (its header states KEYS and ARGV).

import type { RedisKeys } from '../keys.js'
import { SCRIPTS } from '../lua-script.js'
import type { RedisClient } from '../redis-shard.js'

/** task-progress.lua: stores `json` as the task's progress if it is running; resolves to whether it was. */
export async function runTaskProgress(
  client: RedisClient,
  keys: RedisKeys,
  taskId: string,
  json: string,
): Promise<boolean> {
  return (await SCRIPTS.taskProgress.run(client, [keys.taskState(taskId)], [json])) === 1
}
