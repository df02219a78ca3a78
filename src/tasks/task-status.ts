/** Where a task is in its life (`cancelled`: see `TaskCancellation`). */
export type TaskStatus = 'queued' | 'running' | 'retrying' | 'succeeded' | 'dead' | 'cancelled'
