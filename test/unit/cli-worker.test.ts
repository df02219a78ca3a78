import { EventEmitter } from 'node:events'
import { fileURLToPath } from 'node:url'

import { describe, expect, inject, it } from 'vitest'

import { BackgroundConsumer } from '../../consumers/background-consumer.js'
import type { Message } from '../../src/layers/channel-layer.js'
import { workerCommand, type WorkerDeps } from '../../src/cli/commands/worker.js'
import { InMemoryChannelLayer } from '../../src/layers/memory/memory-layer.js'
import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import type { WorkerHandle, WorkerOptions } from '../../src/worker/worker.js'
import { freeLoopbackPort } from '../setup/provision-redis.js'

const fixture = fileURLToPath(new URL('./fixtures/worker-app.ts', import.meta.url))
const redisUrl = inject('redisUrl')

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

describe('switchyard worker: which channel layer', () => {
  /** Starts the worker with a fake runWorker, waits for it to run, stops it; resolves what it printed. */
  async function startAndStop(args: string[], deps: Partial<WorkerDeps>) {
    const worker = fakeWorker()
    const signals = new EventEmitter()
    const { outputs, exitCode } = start(args, { runWorker: worker.runWorker, signals, ...deps })
    await until(() => worker.calls.length === 1)
    signals.emit('SIGTERM')
    worker.stopping.resolve()
    expect(await exitCode).toBe(0)
    return { ...outputs, layer: worker.calls[0]?.layer }
  }

  it('says it uses the Redis layer from REDIS_URL, with its host and prefix', async () => {
    const result = await startAndStop(['--app', fixture, '--prefix', 'cli-worker-layer', 'jobs'], {
      env: { REDIS_URL: redisUrl },
    })
    expect(result.layer).toBeInstanceOf(RedisChannelLayer)
    expect(result.err.split('\n')[0]).toBe(
      `switchyard worker: channel layer: Redis at ${redisUrl}, prefix "cli-worker-layer" (from REDIS_URL)`,
    )
    expect(result.err).not.toContain('warning')
  })

  it('says it uses a layer in memory, this process only, when REDIS_URL is not set', async () => {
    const result = await startAndStop(['--app', fixture, 'jobs'], { env: {} })
    expect(result.layer).toBeInstanceOf(InMemoryChannelLayer)
    expect(result.err.split('\n')[0]).toBe(
      'switchyard worker: channel layer: in memory (REDIS_URL is not set): channels and groups reach this process only',
    )
  })

  it("warns when REDIS_URL is set but the module's own in-memory layer is used instead", async () => {
    const layer = new InMemoryChannelLayer()
    const result = await startAndStop(['--app', 'app.ts', 'jobs'], {
      env: { REDIS_URL: redisUrl },
      loadApp: async (path) => ({ path, application: async () => undefined, layer }),
    })
    expect(result.layer).toBe(layer)
    expect(result.err.split('\n').slice(0, 2)).toEqual([
      "switchyard worker: channel layer: in memory (the --app module's `layer` export): channels and groups reach " +
        'this process only',
      expect.stringMatching(/^switchyard worker: warning: REDIS_URL is set, but the --app module's `layer` export, in/),
    ])
  })

  it("names the module's own Redis layer as its source, without a warning", async () => {
    const layer = new RedisChannelLayer({ hosts: [redisUrl], prefix: 'cli-worker-own' })
    const result = await startAndStop(['--app', 'app.ts', 'jobs'], {
      env: { REDIS_URL: 'redis://elsewhere:6379' },
      loadApp: async (path) => ({ path, application: async () => undefined, layer }),
    })
    expect(result.err.split('\n')[0]).toBe(
      `switchyard worker: channel layer: Redis at ${redisUrl}, prefix "cli-worker-own" (the --app module's \`layer\` export)`,
    )
    expect(result.err).not.toContain('warning')
  })

  it('fails before running anything when REDIS_URL names a Redis that does not answer', async () => {
    const worker = fakeWorker()
    const port = await freeLoopbackPort()
    const run = start(['--app', fixture, 'jobs'], {
      runWorker: worker.runWorker,
      env: { REDIS_URL: `redis://127.0.0.1:${port}` },
    })
    await expect(run.exitCode).rejects.toMatchObject({
      code: 'SWY_REDIS_UNAVAILABLE',
      message: `Redis at redis://127.0.0.1:${port} (REDIS_URL) cannot be reached: connect ECONNREFUSED 127.0.0.1:${port}; start Redis there, or set REDIS_URL to a Redis that runs`,
    })
    expect(worker.calls).toEqual([])
  })

  it("fails before running anything, closing it, when the module's Redis layer cannot reach its Redis", async () => {
    const worker = fakeWorker()
    const port = await freeLoopbackPort()
    const layer = new RedisChannelLayer({ hosts: [`redis://127.0.0.1:${port}`], retryWindowMs: 200 })
    const run = start(['--app', 'app.ts', 'jobs'], {
      runWorker: worker.runWorker,
      loadApp: async (path) => ({ path, application: async () => undefined, layer }),
    })
    await expect(run.exitCode).rejects.toThrow(
      `Redis at redis://127.0.0.1:${port} is unavailable: could not connect in 200 ms; it is the Redis of the --app ` +
        "module's `layer` export: start it, or fix the hosts that layer is built with",
    )
    expect(worker.calls).toEqual([])
    await expect(layer.send('jobs', { type: 'job.run' })).rejects.toMatchObject({ code: 'SWY_LAYER_CLOSED' })
  })
})
