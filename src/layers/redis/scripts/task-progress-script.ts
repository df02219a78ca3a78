// Typed wrapper of task-progress.lua (its header states KEYS and ARGV).
import type { Redis } from 'ioredis'

import type { RedisKeys } from '../keys.js'
import { SCRIPTS } from '../lua-script.js'

/** task-progress.lua: stores `json` as the task's progress if it is running; resolves to whether it was. */
export async function runTaskProgress(client: Redis, keys: RedisKeys, taskId: string, json: string): Promise<boolean> {
  return (await SCRIPTS.taskProgress.run(client, [keys.taskState(taskId)], [json])) === 1
}
