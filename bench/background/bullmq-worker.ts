// A BullMQ worker process for the background bench: same concurrency and failure rule as switchyard-worker.ts,
// reporting completions and CPU time to the parent over IPC (see protocol.ts). Attempts and backoff are job
// options, set by the producer in run-background.ts.
import { Worker, type Job } from 'bullmq'

import { ChildReporter, failsFirstAttempt, readWorkerConfig } from './protocol.js'
import { bullConnection } from './redis-url.js'

const config = readWorkerConfig()

const worker = new Worker(
  config.queue,
  async (job: Job<{ n: number }>) => {
    reporter.attempt()
    if (job.attemptsMade === 0 && failsFirstAttempt(job.data.n, config.failRate)) {
      throw new Error('bench: planned failure')
    }
    reporter.completed(job.data.n)
  },
  {
    connection: bullConnection(config.redisUrl),
    prefix: config.prefix,
    concurrency: config.concurrency,
    autorun: false,
  },
)
await worker.waitUntilReady()

const reporter = new ChildReporter({
  start: () => {
    void worker.run()
  },
  stop: async () => {
    await worker.close()
  },
})
reporter.listen()
