/** The runner's side of the load-generator workers: spread clients over them and gather their results. */
import type { ChildProcess } from 'node:child_process'

import { nextMessage, sendTo, stopChild, type IpcMessage } from './ipc.js'
import { spawnChild } from './spawn-child.js'
import { split } from './stats.js'

const WORKER = new URL('load-worker.ts', import.meta.url)

export class LoadGenerators {
  private constructor(private readonly workers: readonly ChildProcess[]) {}

  /** Starts `count` worker processes (few: more would compete with the servers for this machine's cores). */
  static start(count: number): LoadGenerators {
    return new LoadGenerators(Array.from({ length: count }, () => spawnChild(WORKER)))
  }

  get size(): number {
    return this.workers.length
  }

  /** Gives each worker its share of `total` clients, built by `task(share, index)`, and waits until all connected. */
  async connect(total: number, task: (share: number, index: number) => IpcMessage, timeoutMs: number): Promise<void> {
    const shares = split(total, this.workers.length)
    await Promise.all(
      this.workers.map(async (worker, i) => {
        const connected = nextMessage(worker, 'connected', timeoutMs)
        await sendTo(worker, task(shares[i] ?? 0, i))
        await connected
      }),
    )
  }

  /** Sends `message` to every worker and collects each one's reply of `kind`. */
  async all<T extends IpcMessage>(message: IpcMessage, kind: T['kind'], timeoutMs: number): Promise<T[]> {
    return Promise.all(
      this.workers.map(async (worker) => {
        const reply = nextMessage<T>(worker, kind, timeoutMs)
        await sendTo(worker, message)
        return reply
      }),
    )
  }

  async close(): Promise<void> {
    await Promise.all(
      this.workers.map(async (worker) => {
        if (worker.connected) await sendTo(worker, { kind: 'close' }).catch(() => undefined)
        await stopChild(worker, 2_000)
      }),
    )
  }
}
