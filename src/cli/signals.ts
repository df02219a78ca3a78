import { onLauncherExit } from './launcher-watch.js'

/** The two signals a CLI command treats as "shut down gracefully". */
export type ShutdownSignal = 'SIGINT' | 'SIGTERM'

/** Where signals come from: `process`, or an EventEmitter in tests. */
export interface SignalSource {
  on(signal: ShutdownSignal, listener: () => void): unknown
  off(signal: ShutdownSignal, listener: () => void): unknown
}

export interface SignalWatch {
  /** Resolves with the first SIGINT or SIGTERM. */
  readonly first: Promise<ShutdownSignal>
  /** Removes every listener this watch added; idempotent. */
  dispose(): void
}

const SIGNALS: readonly ShutdownSignal[] = ['SIGINT', 'SIGTERM']

/** Calls its listener when whatever started the command is gone (`onLauncherExit`); returns a disposer. */
export type LauncherWatch = (listener: () => void) => () => void

/**
 * Watches SIGINT and SIGTERM: the first resolves `first`, each later one calls `onLater` (a command exits at once
 * there, the operator having asked twice). Listeners stay until `dispose()`, so a signal during a graceful shutdown
 * is still caught rather than killing the process with Node's default handler. When npm started the command and
 * exits without passing a signal on (`onLauncherExit`), that counts as a first SIGTERM.
 *
 * @example
 * ```ts
 * const watch = watchShutdownSignals(() => process.exit(1))
 * await watch.first
 * await server.close()
 * watch.dispose()
 * ```
 */
export function watchShutdownSignals(
  onLater: (signal: ShutdownSignal) => void,
  source: SignalSource = process,
  launcher: LauncherWatch = onLauncherExit,
): SignalWatch {
  let received = false
  let resolveFirst: (signal: ShutdownSignal) => void = () => undefined
  const first = new Promise<ShutdownSignal>((resolve) => {
    resolveFirst = resolve
  })
  const listeners = SIGNALS.map((signal) => {
    const listener = (): void => {
      if (received) {
        onLater(signal)
        return
      }
      received = true
      resolveFirst(signal)
    }
    source.on(signal, listener)
    return [signal, listener] as const
  })
  // Only ever a first signal: after Ctrl-C, npm exits too, and that must not cut the graceful shutdown short.
  const stopLauncherWatch = launcher(() => {
    if (received) return
    received = true
    resolveFirst('SIGTERM')
  })
  let disposed = false
  return {
    first,
    dispose() {
      if (disposed) return
      disposed = true
      stopLauncherWatch()
      for (const [signal, listener] of listeners) source.off(signal, listener)
    },
  }
}
