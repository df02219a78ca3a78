// Issue 17 item 2, done when: "a rate limit of 20/s across two workers never lets more than 20 tasks start in any
// one-second window". Two `switchyard worker` processes on one Redis prefix, each with concurrency 10, share a
// channel limited to 20 starts per 1 000 ms; every sliding window of the claims (as Redis logged them) and of the
// handlers' recorded start times is checked.
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

import { afterEach, describe, expect, inject, it } from 'vitest'

import { RedisKeys } from '../../src/layers/redis/keys.js'
import { Resources, uniquePrefix, waitFor } from './helpers.js'

const redisUrl = inject('redisUrl')
const resources = new Resources()
afterEach(() => resources.closeAll())

const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))
const APP = fileURLToPath(new URL('./fixtures/rate-limited-app.ts', import.meta.url))
const MAX = 20
const PER_MS = 1_000
const TASKS = 70
/**
 * A start is recorded when the handler runs, a moment after Redis logged its claim: the recorded times may spread
 * by that hand-over (a few ms; up to this on a busy machine), which the window check allows for.
 */
const HANDOVER_MS = 50

function startWorker(prefix: string, recordFile: string): Promise<void> {
  const args = ['--import', 'tsx', CLI, 'worker', '--app', APP, '--prefix', prefix, 'jobs']
  const env = { ...process.env, REDIS_URL: redisUrl, RECORD_FILE: recordFile, RATE_MAX: String(MAX) }
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...env, RATE_PER_MS: String(PER_MS) },
  })
  resources.child(child)
  let output = ''
  return new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      if (output.includes('serving channel jobs')) resolve()
    })
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    child.once('exit', () => {
      reject(new Error(`the worker process exited before it was ready:\n${output}`))
    })
  })
}

function starts(recordFile: string): { at: number; pid: number }[] {
  if (!existsSync(recordFile)) return []
  return readFileSync(recordFile, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const [at = '', pid = ''] = line.split(' ')
      return { at: Number(at), pid: Number(pid) }
    })
}

/** The most starts in any window of `windowMs` (half-open: [t, t + windowMs)). */
function busiestWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b)
  let most = 0
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while ((sorted[i] as number) - (sorted[j] as number) >= windowMs) j++
    most = Math.max(most, i - j + 1)
  }
  return most
}

describe('a channel rate limit shared by layer instances (Redis)', () => {
  it('caps the claims of every instance on the prefix together, as the last declaration says', async () => {
    const prefix = uniquePrefix()
    const first = resources.layer(redisUrl, prefix)
    const second = resources.layer(redisUrl, prefix)
    await first.tasks.declareRateLimit('jobs', { max: 5, perMs: 60_000 })
    for (let i = 0; i < 10; i++) await first.send('jobs', { type: 'job.run', n: i })
    expect(await first.tasks.claim('jobs', 3, 30_000)).toHaveLength(3)
    expect(await second.tasks.claim('jobs', 10, 30_000)).toHaveLength(2)
    expect(await first.tasks.claim('jobs', 10, 30_000)).toEqual([])
    const waitMs = await second.tasks.rateLimitWaitMs('jobs')
    expect(waitMs).toBeGreaterThan(55_000)
    expect(waitMs).toBeLessThanOrEqual(60_000)
    await second.tasks.declareRateLimit('jobs', { max: 7, perMs: 60_000 })
    expect(await first.tasks.claim('jobs', 10, 30_000)).toHaveLength(2)
  })
})

describe('static rateLimit across worker processes (Redis)', () => {
  it('a rate limit of 20/s across two workers never lets more than 20 tasks start in any one-second window', async () => {
    const prefix = uniquePrefix()
    const recordFile = resources.tempFile('starts.log')
    await Promise.all([startWorker(prefix, recordFile), startWorker(prefix, recordFile)])
    const layer = resources.layer(redisUrl, prefix)
    // Where the limit is enforced: the claims' sliding-window log, each claim at Redis' clock. An entry lives
    // PER_MS, so reading the log every 100 ms sees every claim.
    const client = resources.client(redisUrl)
    const windowKey = new RedisKeys(prefix).rateWindow('jobs')
    const claims = new Map<string, number>()
    const watchClaims = async (): Promise<void> => {
      // Members are claim tokens (random bytes): read as Buffers, keyed by hex, so no two decode alike.
      const flat = await client.zrangeBuffer(windowKey, '0', '-1', 'WITHSCORES')
      for (let i = 0; i + 1 < flat.length; i += 2) claims.set(flat[i]!.toString('hex'), Number(String(flat[i + 1])))
    }
    const sentAt = Date.now()
    for (let i = 0; i < TASKS; i++) await layer.send('jobs', { type: 'job.run', idempotencyKey: `t-${i}` })
    await waitFor(
      'every task to start',
      async () => {
        await watchClaims()
        return starts(recordFile).length >= TASKS
      },
      { timeoutMs: 10_000, intervalMs: 100 },
    )
    await watchClaims()
    // Every claim seen, and no PER_MS window of Redis' clock holds more than MAX of them: the promise itself.
    expect(claims.size).toBe(TASKS)
    const recorded = starts(recordFile)
    const times = recorded.map((start) => start.at)
    const busiestClaims = busiestWindow([...claims.values()], PER_MS)
    const busiestStarts = busiestWindow(times, PER_MS)
    console.log(
      `rate limit ${MAX} per ${PER_MS} ms: busiest window ${busiestClaims} claims, ${busiestStarts} handler starts`,
    )
    expect(busiestClaims).toBeLessThanOrEqual(MAX)
    expect(recorded).toHaveLength(TASKS)
    // Both workers took part, and the limit held them back: 70 starts at 20 per second take over 3 seconds.
    expect(new Set(recorded.map((start) => start.pid)).size).toBe(2)
    expect(Math.max(...times) - sentAt).toBeGreaterThanOrEqual(3 * PER_MS - HANDOVER_MS)
    // The handlers' own start times agree, give or take the hand-over from claim to handler.
    expect(busiestWindow(times, PER_MS - HANDOVER_MS)).toBeLessThanOrEqual(MAX)
    // The window check can fail: over two seconds it finds more than max.
    expect(busiestWindow(times, 2 * PER_MS)).toBeGreaterThan(MAX)
  })
})
