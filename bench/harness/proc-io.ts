/** A process's write system calls, from /proc (Linux): how many frames a server sends per `writev`, seen from outside. */
import { readFile } from 'node:fs/promises'

/** `syscw` of `/proc/<pid>/io`: the write-family system calls (write, writev, ...) the process made; undefined off Linux. */
export async function procWriteSyscalls(pid: number): Promise<number | undefined> {
  try {
    const match = /^syscw: (\d+)$/m.exec(await readFile(`/proc/${pid}/io`, 'utf8'))
    return match?.[1] === undefined ? undefined : Number(match[1])
  } catch {
    return undefined
  }
}

/** The servers' write system calls in all, or undefined when any cannot be read. */
export async function totalWriteSyscalls(pids: readonly number[]): Promise<number | undefined> {
  const each = await Promise.all(pids.map(procWriteSyscalls))
  return each.some((n) => n === undefined) ? undefined : each.reduce((sum: number, n) => sum + (n ?? 0), 0)
}
