// A Switchyard worker process for the background bench: a RetryingConsumer on the Redis layer, served by
// runWorker, reporting completions and CPU time to the parent over IPC (see protocol.ts).
import { pino } from 'pino'

import type { TaskContext } from '../../src/worker/retry-options.js'
import { RetryingConsumer } from '../../consumers/retrying-consumer.js'
import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import { ChannelNameRouter } from '../../src/routing/channel-router.js'
import { runWorker, type WorkerHandle } from '../../src/worker/worker.js'
import { ChildReporter, failsFirstAttempt, readWorkerConfig } from './protocol.js'

const config = readWorkerConfig()
const layer = new RedisChannelLayer({ hosts: [config.redisUrl], prefix: config.prefix, capacity: config.capacity })
await layer.ready()

class BenchJobs extends RetryingConsumer {
  static override concurrency = config.concurrency
  static override retry = { maxRetries: 3, initialDelayMs: 10, factor: 1, maxDelayMs: 10, jitter: 'none' as const }

  async job_run(message: { type: 'job.run'; n: number }, ctx: TaskContext): Promise<void> {
    reporter.attempt()
    if (ctx.attempt === 1 && failsFirstAttempt(message.n, config.failRate)) throw new Error('bench: planned failure')
    reporter.completed(message.n)
  }
}

let worker: WorkerHandle | undefined
const reporter = new ChildReporter({
  start: () => {
    worker = runWorker({
      application: ChannelNameRouter({ [config.queue]: BenchJobs.asApp() }),
      layer,
      channels: [config.queue],
      concurrency: config.concurrency,
      shutdownTimeoutMs: 5_000,
      // Silent, like BullMQ: per-failure warnings would otherwise be part of the measured CPU.
      logger: pino({ level: 'silent' }),
    })
  },
  stop: async () => {
    await worker?.stop()
    await layer.close()
  },
})
reporter.listen()
