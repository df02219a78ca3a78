/**
 * Where a server's CPU goes by thread, from /proc (Linux): its main thread (the event loop) against the rest (V8's
 * platform workers: concurrent TurboFan compiles and GC marking; libuv's pool). A paced row's figure can move by a
 * third from one 10 s window to the next; this tells a window with background compiling apart from a slower loop.
 */
import { readdir, readFile } from 'node:fs/promises'

const CLOCK_TICKS_PER_SECOND = 100

export interface ThreadCpu {
  /** The main thread's user and system CPU, in ms (clock-tick resolution: 10 ms). */
  readonly mainUserMs: number
  readonly mainSystemMs: number
  /** Every other thread's CPU, in ms. */
  readonly helpersMs: number
  /** Times the main thread was preempted (`nonvoluntary_ctxt_switches`). */
  readonly mainPreempted: number
}

/** The process's per-thread CPU so far; undefined off Linux or once it exited. */
export async function threadCpu(pid: number): Promise<ThreadCpu | undefined> {
  try {
    let mainUserMs = 0
    let mainSystemMs = 0
    let helpersMs = 0
    for (const tid of await readdir(`/proc/${pid}/task`)) {
      const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8').catch(() => undefined)
      if (stat === undefined) continue // a thread that ended meanwhile
      // Fields after the command name, which is in parentheses and may contain spaces.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      const userMs = (Number(fields[11]) * 1000) / CLOCK_TICKS_PER_SECOND
      const systemMs = (Number(fields[12]) * 1000) / CLOCK_TICKS_PER_SECOND
      if (tid === String(pid)) {
        mainUserMs = userMs
        mainSystemMs = systemMs
      } else helpersMs += userMs + systemMs
    }
    const status = await readFile(`/proc/${pid}/task/${pid}/status`, 'utf8')
    const preempted = /^nonvoluntary_ctxt_switches:\s+(\d+)$/m.exec(status)?.[1]
    return { mainUserMs, mainSystemMs, helpersMs, mainPreempted: Number(preempted ?? 0) }
  } catch {
    return undefined
  }
}

/** What a window added: `after` minus `before`, as one line (`main 210u/140s ms, helpers 20 ms, preempted 96`). */
export function describeThreadCpu(before: ThreadCpu | undefined, after: ThreadCpu | undefined): string {
  if (before === undefined || after === undefined) return 'threads: not readable here'
  const user = after.mainUserMs - before.mainUserMs
  const system = after.mainSystemMs - before.mainSystemMs
  const helpers = after.helpersMs - before.helpersMs
  const preempted = after.mainPreempted - before.mainPreempted
  return `main ${user.toFixed(0)}u/${system.toFixed(0)}s ms, helpers ${helpers.toFixed(0)} ms, preempted ${preempted}`
}
