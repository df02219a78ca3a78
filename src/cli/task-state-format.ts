import type { TaskState } from '../tasks/task-store.js'

/**
 * `switchyard tasks state`'s text: the status line, the last error, and a chain's or chord's steps, one per line.
 * Never the stored result or progress (`--json` prints those): a terminal is often a shared screen or a log.
 */
export function formatTaskState(state: TaskState): string {
  const when = new Date(state.updatedAt).toISOString()
  const lines = [
    `${JSON.stringify(state.taskId)}: ${state.status} (attempts ${state.attempts}, channel ${state.channel || '-'}, updated ${when})`,
  ]
  if (state.lastError !== undefined) lines.push(`  last error: ${state.lastError}`)
  const flow = state.flow
  if (flow !== undefined) {
    const steps = flow.then === undefined ? flow.steps : [...flow.steps, flow.then]
    const width = Math.max(...steps.map((step) => step.taskId.length))
    lines.push(`  ${flow.kind} of ${steps.length} tasks:`)
    for (const step of steps) {
      lines.push(`    ${step.taskId.padEnd(width)}  ${step.channel}  ${step.status ?? 'not sent'}`)
    }
  }
  return `${lines.join('\n')}\n`
}
