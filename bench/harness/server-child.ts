/** The child side of server-process.ts: announce the port, answer CPU and memory queries, stop on SIGTERM. */
import { join } from 'node:path'
import { writeHeapSnapshot } from 'node:v8'

import { onParentMessage, sendToParent } from './ipc.js'

/**
 * With BENCH_HEAP_SNAPSHOT_DIR set, a heap snapshot follows each memory reading (`<pid>-<n>.heapsnapshot`), for
 * bench/tools/heap-diff.ts. Writing one takes memory the process may keep: read the RSS of such runs with care.
 */
const SNAPSHOT_DIR = process.env.BENCH_HEAP_SNAPSHOT_DIR
let snapshots = 0

function writeSnapshot(): void {
  if (SNAPSHOT_DIR === undefined || SNAPSHOT_DIR === '') return
  snapshots++
  writeHeapSnapshot(join(SNAPSHOT_DIR, `${process.pid}-${snapshots}.heapsnapshot`))
}

/** Call once the server listens; `close` runs on SIGTERM, then the process exits. */
export function announceServer(port: number, close: () => Promise<void>): void {
  onParentMessage(async (message) => {
    if (message.kind === 'cpu') {
      const { user, system } = process.cpuUsage()
      sendToParent({ kind: 'cpu', userUs: user, systemUs: system } as const)
    } else if (message.kind === 'memory') {
      // Started with --expose-gc by the harness: collect first so the figure is what stays, not garbage.
      const gc = (globalThis as { gc?: () => void }).gc
      gc?.()
      const { heapUsed, rss } = process.memoryUsage()
      writeSnapshot()
      sendToParent({ kind: 'memory', heapUsedBytes: heapUsed, rssBytes: rss, collected: gc !== undefined } as const)
    }
  })
  process.once('SIGTERM', () => {
    void close().finally(() => process.exit(0))
  })
  sendToParent({ kind: 'ready', port, pid: process.pid } as const)
}
