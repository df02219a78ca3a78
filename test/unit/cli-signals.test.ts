import { EventEmitter } from 'node:events'

import { afterEach, describe, expect, it, vi } from 'vitest'

import { onLauncherExit } from '../../src/cli/launcher-watch.js'
import { watchShutdownSignals } from '../../src/cli/signals.js'

afterEach(() => {
  vi.useRealTimers()
})

describe('onLauncherExit', () => {
  it('calls the listener once, when the parent of a command started by npm changes', () => {
    vi.useFakeTimers()
    let parent = 4242
    const listener = vi.fn()
    onLauncherExit(listener, { env: { npm_command: 'exec' }, ppid: () => parent, intervalMs: 100 })

    vi.advanceTimersByTime(1_000)
    expect(listener).not.toHaveBeenCalled()
    parent = 1 // npm and its shell are gone: the orphan was adopted by init
    vi.advanceTimersByTime(100)
    expect(listener).toHaveBeenCalledTimes(1)
    vi.advanceTimersByTime(1_000)
    expect(listener).toHaveBeenCalledTimes(1)
  })

  it('does not watch a command npm did not start, which may be detached on purpose', () => {
    vi.useFakeTimers()
    const ppid = vi.fn(() => 4242)
    const listener = vi.fn()
    onLauncherExit(listener, { env: {}, ppid, intervalMs: 100 })
    vi.advanceTimersByTime(1_000)
    expect(ppid).not.toHaveBeenCalled()
    expect(listener).not.toHaveBeenCalled()
  })

  it('stops looking once disposed', () => {
    vi.useFakeTimers()
    let parent = 4242
    const listener = vi.fn()
    const dispose = onLauncherExit(listener, { env: { npm_command: 'run' }, ppid: () => parent, intervalMs: 100 })
    dispose()
    parent = 1
    vi.advanceTimersByTime(1_000)
    expect(listener).not.toHaveBeenCalled()
  })
})

describe('watchShutdownSignals', () => {
  function launcherStub(): { watch: (listener: () => void) => () => void; exit: () => void; disposed: boolean } {
    const stub = {
      listener: (): void => undefined,
      disposed: false,
      watch: (listener: () => void) => {
        stub.listener = listener
        return () => {
          stub.disposed = true
        }
      },
      exit: () => {
        stub.listener()
      },
    }
    return stub
  }

  it('takes the exit of the launching npm as a first SIGTERM', async () => {
    const launcher = launcherStub()
    const onLater = vi.fn()
    const watch = watchShutdownSignals(onLater, new EventEmitter(), launcher.watch)
    launcher.exit()
    await expect(watch.first).resolves.toBe('SIGTERM')
    expect(onLater).not.toHaveBeenCalled()
    watch.dispose()
    expect(launcher.disposed).toBe(true)
  })

  it('never takes it as a second signal: after Ctrl-C npm exits too, and the graceful shutdown goes on', async () => {
    const launcher = launcherStub()
    const signals = new EventEmitter()
    const onLater = vi.fn()
    const watch = watchShutdownSignals(onLater, signals, launcher.watch)
    signals.emit('SIGINT')
    await expect(watch.first).resolves.toBe('SIGINT')
    launcher.exit()
    expect(onLater).not.toHaveBeenCalled()
    signals.emit('SIGTERM')
    expect(onLater).toHaveBeenCalledWith('SIGTERM')
    watch.dispose()
    expect(signals.listenerCount('SIGINT') + signals.listenerCount('SIGTERM')).toBe(0)
  })
})
