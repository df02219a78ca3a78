/**
 * Background tasks: 20 000 messages through a Switchyard RetryingConsumer and through BullMQ at equal
 * concurrency, with 1 and 2 worker processes, and with 10 % of the tasks failing their first attempt.
 */
import { runBackgroundBench } from '../background/run-background.js'
import type { BackgroundRow } from '../harness/result.js'
import type { BenchContext } from './context.js'

export interface BackgroundParams {
  readonly messages: number
  readonly concurrency: number
}

export async function runBackground(context: BenchContext, params: BackgroundParams): Promise<BackgroundRow[]> {
  const rows: BackgroundRow[] = []
  for (const failRate of [0, 0.1] as const) {
    for (const workers of [1, 2] as const) {
      for (const system of ['switchyard', 'bullmq'] as const) {
        const label = `background ${params.messages} msgs, ${workers} worker(s), ${failRate * 100} % failing once, ${system}`
        context.progress(`${label}: running`)
        const result = await runBackgroundBench({ system, workers, failRate, redisUrl: context.redisUrl, ...params })
        context.progress(
          `${label}: ${Math.round(result.messagesPerSecond)} msgs/s, ${result.ok ? 'checks ok' : 'CHECKS FAILED'}`,
        )
        rows.push({
          system,
          workers,
          concurrency: result.concurrency,
          failRate,
          messages: result.messages,
          messagesPerSecond: result.messagesPerSecond,
          workerCpuUsPerMessage: result.workerCpuUsPerMessage,
          attempts: result.attempts,
          lost: result.lost,
          ok: result.ok,
        })
      }
    }
  }
  return rows
}
