/**
 * Where a server's CPU goes by thread, from /proc (Linux): its main thread (the event loop) against the rest (V8's
 * platform workers: concurrent TurboFan compiles and GC marking; libuv's pool). A paced row's figure can move by a
 * third from one 10 s window to the next; this tells a window with background compiling apart from a slower loop.
 */
import { readdir, readFile } from 'node:fs/promises'

/** Linux clock ticks per second (`getconf CLK_TCK`), 100 on every mainstream kernel config. */
const CLOCK_TICKS_PER_SECOND = 100

/** The user and system CPU in a `/proc/<pid>/stat` (or `/task/<tid>/stat`) line, in ms; undefined if unreadable. */
export function statCpuMs(stat: string): { readonly userMs: number; readonly systemMs: number } | undefined {
  // Fields after the command name, which is in parentheses and may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const utime = Number(fields[11])
  const stime = Number(fields[12])
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined
  return { userMs: (utime * 1000) / CLOCK_TICKS_PER_SECOND, systemMs: (stime * 1000) / CLOCK_TICKS_PER_SECOND }
}

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
      // A thread that ended meanwhile.
      const cpu = stat === undefined ? undefined : statCpuMs(stat)
      if (cpu === undefined) continue
      if (tid === String(pid)) {
        mainUserMs = cpu.userMs
        mainSystemMs = cpu.systemMs
      } else helpersMs += cpu.userMs + cpu.systemMs
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
