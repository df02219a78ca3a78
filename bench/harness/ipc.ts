/** Messages between the runner and its child processes (servers, publishers, load generators), over Node's IPC. */
import type { ChildProcess } from 'node:child_process'

/**
 * Milliseconds on the machine's monotonic clock (CLOCK_MONOTONIC, which libuv's hrtime reads), sub-ms resolution:
 * one clock for every process on the machine. `timeOrigin + now()` is not: each process samples its wall-clock
 * origin at start, and a clock step between two starts set a CI run's fan-out latency at -2.8 ms.
 */
export function nowMs(): number {
  return Number(process.hrtime.bigint() / 1_000n) / 1_000
}

/** Any message: a `kind` and plain JSON fields. */
export interface IpcMessage {
  readonly kind: string
  readonly [field: string]: unknown
}

function isIpcMessage(value: unknown): value is IpcMessage {
  return typeof value === 'object' && value !== null && typeof (value as { kind?: unknown }).kind === 'string'
}

/** Resolves with the next message of `kind` from the child; rejects if it exits or `timeoutMs` passes first. */
export function nextMessage<T extends IpcMessage>(child: ChildProcess, kind: T['kind'], timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: unknown): void => {
      if (!isIpcMessage(message)) return
      if (message.kind === 'error') {
        cleanup()
        reject(new Error(`child ${String(child.pid)} failed: ${(message as { message?: unknown }).message as string}`))
      } else if (message.kind === kind) {
        cleanup()
        resolve(message as T)
      }
    }
    const onExit = (code: number | null, signal: string | null): void => {
      cleanup()
      reject(new Error(`child ${String(child.pid)} exited (${signal ?? `code ${String(code)}`}) before "${kind}"`))
    }
    const timer = setTimeout(() => {
      cleanup()
      reject(new Error(`no "${kind}" from child ${String(child.pid)} within ${timeoutMs} ms`))
    }, timeoutMs)
    const cleanup = (): void => {
      clearTimeout(timer)
      child.off('message', onMessage)
      child.off('exit', onExit)
    }
    child.on('message', onMessage)
    child.once('exit', onExit)
  })
}

/** Sends a message to a child; resolves once it is handed to the IPC channel. */
export function sendTo(child: ChildProcess, message: IpcMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    child.send(message, (error) => {
      if (error) reject(error)
      else resolve()
    })
  })
}

/** The child side: sends to the parent, or throws when the process was not started with IPC. */
export function sendToParent(message: IpcMessage): void {
  if (process.send === undefined) throw new Error('this benchmark process must be started by bench/run.ts (no IPC)')
  process.send(message)
}

/** The child side: calls `handler` for every message; a rejection is reported to the parent as `error`. */
export function onParentMessage(handler: (message: IpcMessage) => Promise<void>): void {
  process.on('message', (message: unknown) => {
    if (!isIpcMessage(message)) return
    handler(message).catch((error: unknown) => {
      sendToParent({ kind: 'error', message: error instanceof Error ? error.message : String(error) })
    })
  })
}

/** Stops a child: SIGTERM, SIGKILL after `graceMs`; resolves once it exited. */
export async function stopChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      resolve()
    })
  })
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
  await exited
  clearTimeout(timer)
}
