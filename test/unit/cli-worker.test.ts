import { EventEmitter } from 'node:events'
import { fileURLToPath } from 'node:url'

import { describe, expect, it } from 'vitest'

import { BackgroundConsumer } from '../../consumers/background-consumer.js'
import type { Message } from '../../src/layers/channel-layer.js'
import { workerCommand, type WorkerDeps } from '../../src/cli/commands/worker.js'
import { InMemoryChannelLayer } from '../../src/layers/memory.js'
import type { WorkerHandle, WorkerOptions } from '../../src/worker/worker.js'

const fixture = fileURLToPath(new URL('./fixtures/worker-app.ts', import.meta.url))

interface Outputs {
  out: string
  err: string
}

function start(args: string[], deps: Partial<WorkerDeps> = {}) {
  const outputs: Outputs = { out: '', err: '' }
  const exitCode = workerCommand(
    args,
    {
      out: (text) => (outputs.out += text),
      err: (text) => (outputs.err += text),
    },
    deps,
  )
  return { outputs, exitCode }
}

async function run(args: string[], deps: Partial<WorkerDeps> = {}) {
  const { outputs, exitCode } = start(args, deps)
  return { code: await exitCode, ...outputs }
}

function deferred<T = void>() {
  let resolve: (value: T) => void = () => undefined
  let reject: (error: unknown) => void = () => undefined
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

/** A runWorker stand-in that records its options; `done` and `stop()` are under the test's control. */
function fakeWorker() {
  const calls: WorkerOptions[] = []
  const done = deferred()
  const stopping = deferred()
  let stops = 0
  const handle: WorkerHandle = {
    done: done.promise,
    stop: () => {
      stops++
      return stopping.promise
    },
  }
  const runWorker = (options: WorkerOptions): WorkerHandle => {
    calls.push(options)
    return handle
  }
  return { calls, done, stopping, runWorker, stops: () => stops }
}

/** An in-memory layer that counts `close()`. */
function countingLayer() {
  const layer = new InMemoryChannelLayer()
  let closed = 0
  const close = layer.close.bind(layer)
  layer.close = async () => {
    closed++
    await close()
  }
  return { layer, closed: () => closed }
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 2))
  expect(check()).toBe(true)
}

describe('switchyard worker: arguments', () => {
  it.each([
    [[], '--app is required'],
    [['--app', fixture], 'name at least one channel to serve'],
    [['--app', fixture, 'bad name'], 'Channel name "bad name" is invalid: channel names may contain only ASCII'],
    [['--app', fixture, 'x'.repeat(100)], 'it must be 1 to 99 characters long (it has 100)'],
    [['--app', fixture, 'specific.abc!def'], 'Channel name "specific.abc!def" is process-specific'],
    [['--app', fixture, '--concurrency', '0', 'jobs'], '--concurrency must be an integer of at least 1, got "0"'],
    [['--app', fixture, '--concurrency', '2.5', 'jobs'], '--concurrency must be an integer of at least 1, got "2.5"'],
    [
      ['--app', fixture, '--shutdown-timeout-ms', 'soon', 'jobs'],
      '--shutdown-timeout-ms must be an integer of at least 0, got "soon"',
    ],
    [['--app', fixture, '--port', '80', 'jobs'], "Unknown option '--port'"],
  ])('refuses %j with exit 2 and usage, before loading anything', async (args, message) => {
    const worker = fakeWorker()
    const result = await run(args, { runWorker: worker.runWorker })
    expect(result.code).toBe(2)
    expect(result.out).toBe('')
    expect(result.err).toContain(message)
    expect(result.err).toContain('Usage: switchyard worker --app <module> [options] <channel...>')
    expect(worker.calls).toEqual([])
  })

  it('prints usage for --help', async () => {
    const result = await run(['--help'])
    expect(result.code).toBe(0)
    expect(result.out).toMatch(/^Usage: switchyard worker/)
  })

  it('exits 1 with the loader message when the module is missing', async () => {
    const worker = fakeWorker()
    const result = await run(['--app', 'test/unit/fixtures/missing-app.ts', 'jobs'], { runWorker: worker.runWorker })
    expect(result.code).toBe(1)
    expect(result.err).toMatch(/^switchyard worker: Cannot load --app .*there is no file at/)
    expect(worker.calls).toEqual([])
  })
})

describe('switchyard worker: running', () => {
  it('loads the module, takes the layer from the environment, prints each channel and stops on SIGTERM', async () => {
    const worker = fakeWorker()
    const signals = new EventEmitter()
    const { layer, closed } = countingLayer()
    const layerCalls: unknown[] = []
    const args = ['--app', fixture, '--prefix', 'p1', '--concurrency', '3', '--shutdown-timeout-ms', '500']
    const { outputs, exitCode } = start([...args, 'email.send', 'thumbnails', 'email.send'], {
      runWorker: worker.runWorker,
      signals,
      env: { REDIS_URL: 'redis://example:6379' },
      defaultLayer: (env, options) => {
        layerCalls.push([env, options])
        return layer
      },
    })
    await until(() => worker.calls.length === 1)
    expect(layerCalls).toEqual([[{ REDIS_URL: 'redis://example:6379' }, { prefix: 'p1' }]])
    const options = worker.calls[0]
    expect(options).toMatchObject({ layer, channels: ['email.send', 'thumbnails'], concurrency: 3 })
    expect(options?.shutdownTimeoutMs).toBe(500)
    expect(typeof options?.application).toBe('function')
    expect(outputs.out).toBe(
      `switchyard worker serving channel email.send (${fixture})\n` +
        `switchyard worker serving channel thumbnails (${fixture})\n`,
    )

    signals.emit('SIGTERM')
    await until(() => worker.stops() === 1)
    expect(closed()).toBe(0)
    worker.stopping.resolve()
    expect(await exitCode).toBe(0)
    expect(closed()).toBe(1)
    expect(outputs.err).toContain('SIGTERM, finishing running tasks')
    expect(signals.listenerCount('SIGTERM') + signals.listenerCount('SIGINT')).toBe(0)
  })

  it('exits 1 at once on a second signal while stopping', async () => {
    const worker = fakeWorker()
    const signals = new EventEmitter()
    const exits: number[] = []
    const { layer } = countingLayer()
    const { outputs, exitCode } = start(['--app', fixture, 'jobs'], {
      runWorker: worker.runWorker,
      signals,
      defaultLayer: () => layer,
      exit: (code) => exits.push(code),
    })
    await until(() => worker.calls.length === 1)
    signals.emit('SIGINT')
    await until(() => worker.stops() === 1)
    signals.emit('SIGINT')
    expect(exits).toEqual([1])
    expect(outputs.err).toContain('second signal (SIGINT), exiting without waiting')
    worker.stopping.resolve()
    expect(await exitCode).toBe(0)
  })

  it("exits 1 when a channel's application crashes, closing the layer", async () => {
    const worker = fakeWorker()
    const signals = new EventEmitter()
    const { layer, closed } = countingLayer()
    const { outputs, exitCode } = start(['--app', fixture, 'jobs'], {
      runWorker: worker.runWorker,
      signals,
      defaultLayer: () => layer,
    })
    await until(() => worker.calls.length === 1)
    worker.done.reject(new TypeError('handler exploded'))
    expect(await exitCode).toBe(1)
    expect(outputs.err).toContain("a channel's application crashed: TypeError: handler exploded")
    expect(closed()).toBe(1)
    expect(worker.stops()).toBe(0)
    expect(signals.listenerCount('SIGTERM')).toBe(0)
  })

  it('exits 1 when stopping reports a crash', async () => {
    const worker = fakeWorker()
    const signals = new EventEmitter()
    const { exitCode } = start(['--app', fixture, 'jobs'], {
      runWorker: worker.runWorker,
      signals,
      defaultLayer: () => new InMemoryChannelLayer(),
    })
    await until(() => worker.calls.length === 1)
    signals.emit('SIGTERM')
    worker.stopping.reject(new Error('late crash'))
    expect(await exitCode).toBe(1)
  })

  it('prefers the layer the module exports', async () => {
    const worker = fakeWorker()
    const { layer, closed } = countingLayer()
    const signals = new EventEmitter()
    const { exitCode } = start(['--app', 'app.ts', 'jobs'], {
      runWorker: worker.runWorker,
      signals,
      loadApp: async (path) => ({ path, application: async () => undefined, layer }),
      defaultLayer: () => {
        throw new Error('not expected')
      },
    })
    await until(() => worker.calls.length === 1)
    expect(worker.calls[0]?.layer).toBe(layer)
    worker.done.resolve()
    expect(await exitCode).toBe(0)
    expect(closed()).toBe(1)
  })

  it('serves a BackgroundConsumer with the real runWorker until SIGTERM', async () => {
    const handled: string[] = []
    class Mailer extends BackgroundConsumer {
      async email_send(message: Message): Promise<void> {
        handled.push(message.to as string)
      }
    }
    const layer = new InMemoryChannelLayer()
    const signals = new EventEmitter()
    const { outputs, exitCode } = start(['--app', 'app.ts', 'email.send'], {
      signals,
      loadApp: async (path) => ({ path, application: Mailer.asApp(), layer }),
    })
    await until(() => outputs.out !== '')
    await layer.send('email.send', { type: 'email.send', to: 'ada@example.com' })
    await until(() => handled.length === 1)
    signals.emit('SIGTERM')
    expect(await exitCode).toBe(0)
    expect(handled).toEqual(['ada@example.com'])
  })
})
