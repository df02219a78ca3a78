// A worker process for the idle-workers bench: runWorker serving RetryingConsumer channels on the Redis layer with
// default settings, as `switchyard worker` does, and nothing ever sent to them (see run-idle.ts). Started and
// stopped by the parent over IPC, with protocol.ts' ChildReporter.
import { pino } from 'pino'

import { RetryingConsumer } from '../../consumers/retrying-consumer.js'
import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import { ChannelNameRouter } from '../../src/routing/channel-router.js'
import { runWorker, type WorkerHandle } from '../../src/worker/worker.js'
import { ChildReporter, readIdleWorkerConfig } from './protocol.js'

const config = readIdleWorkerConfig()
const layer = new RedisChannelLayer({ hosts: [config.redisUrl], prefix: config.prefix })
await layer.ready()

class IdleJobs extends RetryingConsumer {
  job_run(): Promise<void> {
    return Promise.reject(new Error('bench: the idle workload sends no tasks'))
  }
}

const application = IdleJobs.asApp()
let worker: WorkerHandle | undefined
new ChildReporter({
  start: () => {
    worker = runWorker({
      application: ChannelNameRouter(Object.fromEntries(config.channels.map((channel) => [channel, application]))),
      layer,
      channels: config.channels,
      shutdownTimeoutMs: 5_000,
      logger: pino({ level: 'silent' }),
    })
  },
  stop: async () => {
    await worker?.stop()
    await layer.close()
  },
}).listen()
