/**
 * Issue 16 in real Chromium, on the showcase chat: a page whose connection is cut comes back to exactly what it
 * missed (`recovered: true`), or, after the room's history overflowed, to a "reloaded" notice (`recovered: false`);
 * and the presence list is right across two showcase processes on Redis, and right again within `staleAfterMs`
 * after one of them is killed with SIGKILL.
 *
 * The in-memory tests run the showcase in this process, as showcase.e2e.test.ts does: "offline" is every TCP
 * connection of the server cut without a close frame and the listener closed (a crash), while the layer stays up
 * and the test sends to the room; then the server comes back on the same port and the page reconnects by itself.
 * The Redis test runs two `examples/showcase/main.ts` processes on one private key prefix.
 */
import { randomBytes } from 'node:crypto'
import type { Socket } from 'node:net'
import { join } from 'node:path'

import type { Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest'

import { CHAT_LAYER_OPTIONS } from '../../examples/showcase/chat-room-consumer.js'
import { createShowcase } from '../../examples/showcase/showcase.js'
import { InMemoryChannelLayer } from '../../src/index.js'
import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import { serve, type RunningServer } from '../../src/server/serve.js'
import { spawnProcess, type Spawned } from '../support/spawned.js'
import { waitFor } from '../support/wait.js'
import { closeE2e, launchBrowser, type BrowserSession, type PageProblem } from './browser.js'

const UI_TIMEOUT_MS = 10_000
/** The pages' backoff waits up to 750 ms before the first attempt, and up to 15 s later on: allow a few. */
const RECONNECT_TIMEOUT_MS = 30_000
const TEST_TIMEOUT_MS = 60_000
/** Messages the showcase's rooms keep (`CHAT_LAYER_OPTIONS`). */
const HISTORY_SIZE = CHAT_LAYER_OPTIONS.history['chat.*']!.size
/** The Redis processes' heartbeat and stale limit: small, so a killed process's members go within a second. */
const HEARTBEAT_MS = 200
const STALE_AFTER_MS = 1_000
const REPO = join(import.meta.dirname, '..', '..')

const layer = new InMemoryChannelLayer(CHAT_LAYER_OPTIONS)
const showcase = createShowcase({ layer })
let browser: BrowserSession | undefined
let server: RunningServer | undefined
let port = 0
const pages: Page[] = []
/** Problems a test expects (refused reconnects while its server is down); anything else fails the test. */
let tolerated: (problem: PageProblem) => boolean = () => false
const connections = new Set<Socket>()

async function startServer(): Promise<void> {
  server = await serve({ application: showcase.application, layer, host: '127.0.0.1', port })
  port = server.port
  server.app.server.on('connection', (socket: Socket) => {
    connections.add(socket)
    socket.once('close', () => connections.delete(socket))
  })
}

/** The server process "crashes": every connection cut without a close frame, and nothing listens. */
async function crashServer(): Promise<void> {
  for (const socket of connections) socket.destroy()
  connections.clear()
  await server?.close()
}

beforeAll(async () => {
  browser = await launchBrowser()
  await startServer()
}, 300_000)

afterAll(() => closeE2e({ browser, server, worker: undefined, layer }))

afterEach(async () => {
  const problems = browser?.problems.splice(0) ?? []
  await Promise.all(pages.splice(0).map((page) => page.close()))
  const unexpected = problems.filter((problem) => !tolerated(problem))
  tolerated = () => false
  expect(unexpected, 'console errors, uncaught exceptions or crashes on the pages').toEqual([])
})

async function open(label: string, url: string): Promise<Page> {
  if (browser === undefined) throw new Error('the browser did not start')
  const page = await browser.newPage(label)
  pages.push(page)
  await page.goto(url, { timeout: UI_TIMEOUT_MS })
  return page
}

async function waitForState(page: Page, state: string, timeoutMs = UI_TIMEOUT_MS): Promise<void> {
  await page.locator(`#status[data-state="${state}"]`).waitFor({ timeout: timeoutMs })
}

const chatLines = async (page: Page): Promise<string[]> =>
  (await page.locator('#log .msg').allTextContents()).map((line) => line.trim())

/** Every line of the log, chat and system alike, in order; a recovery notice as `[recovered: <outcome>]`. */
const logLines = async (page: Page): Promise<string[]> =>
  page.evaluate<string[]>(
    `[...document.querySelectorAll('#log > div')].map((line) =>
      line.dataset.recovered === undefined ? line.textContent.trim() : '[recovered: ' + line.dataset.recovered + ']')`,
  )

async function waitForOnline(page: Page, names: readonly string[], timeoutMs = UI_TIMEOUT_MS): Promise<number> {
  const want = JSON.stringify([...names].sort())
  let last: string[] = []
  try {
    return await waitFor(
      `#online to list ${want}`,
      async () => JSON.stringify((last = await page.locator('#online li').allTextContents()).sort()) === want,
      { timeoutMs, intervalMs: 25 },
    )
  } catch (error) {
    throw new Error(`${(error as Error).message}; it lists ${JSON.stringify(last)}`, { cause: error })
  }
}

/** Chromium logs each refused attempt to reach a server that is down as a console error itself. */
const refusedReconnect = (label: string) => (problem: PageProblem) =>
  problem.page === label &&
  problem.kind === 'console.error' &&
  /^WebSocket connection to 'ws:\/\/127\.0\.0\.1:\d+\/ws\/chat\/[\w-]+\/\?.*' failed: /.test(problem.text)

const newRoom = (): string => `e2e-${randomBytes(4).toString('hex')}`

/** Chat messages to the room from the test, as another member would send them. */
async function sendToRoom(room: string, texts: readonly string[]): Promise<void> {
  for (const text of texts) {
    await layer.groupSend(`chat.${room}`, { type: 'chat.message', name: 'tester', text, at: Date.now() })
  }
}

/** Ann in a fresh room, open, with one message seen; the page is then cut off while `whileOffline` runs. */
async function offlineWhile(whileOffline: (room: string) => Promise<void>): Promise<{ page: Page; room: string }> {
  const room = newRoom()
  const page = await open('ann', `http://127.0.0.1:${port}/chat/?room=${room}&name=ann`)
  await waitForState(page, 'open')
  await waitForOnline(page, ['ann'])
  await sendToRoom(room, ['before'])
  await waitFor('the first line', async () => (await chatLines(page)).length === 1)

  tolerated = refusedReconnect('ann')
  await crashServer()
  await waitForState(page, 'reconnecting')
  await whileOffline(room)
  await startServer()
  await waitForState(page, 'open', RECONNECT_TIMEOUT_MS)
  return { page, room }
}

const numbered = (count: number, from = 0): string[] => Array.from({ length: count }, (_, i) => `m${from + i}`)

describe('recovery in Chromium, on the in-memory layer', () => {
  it(
    'a page offline while 50 messages are sent comes back to exactly those 50, in order, with recovered: true',
    async () => {
      const missed = numbered(50)
      const { page, room } = await offlineWhile((offlineRoom) => sendToRoom(offlineRoom, missed))
      const expected = ['tester: before', ...missed.map((text) => `tester: ${text}`)]
      await waitFor('the 50 missed lines', async () => (await chatLines(page)).length >= expected.length, {
        timeoutMs: UI_TIMEOUT_MS,
      })
      expect(await chatLines(page)).toEqual(expected)
      // The notice came first, then exactly the missed lines; and nothing more arrives (no duplicate, no replay).
      expect(await logLines(page)).toEqual([expected[0], '[recovered: true]', ...expected.slice(1)])
      await sendToRoom(room, ['live'])
      await waitFor('the live line', async () => (await chatLines(page)).at(-1) === 'tester: live')
      expect(await chatLines(page)).toHaveLength(expected.length + 1)
    },
    TEST_TIMEOUT_MS,
  )

  it(
    'after the history overflowed, the page gets recovered: false and reloads',
    async () => {
      const { page, room } = await offlineWhile((offlineRoom) => sendToRoom(offlineRoom, numbered(HISTORY_SIZE + 50)))
      await page.locator('#log [data-recovered="false"]').waitFor({ timeout: UI_TIMEOUT_MS })
      // Reloaded: the log starts again with the notice, and none of the lost messages are shown.
      expect(await logLines(page)).toEqual(['[recovered: false]'])
      await sendToRoom(room, ['after the reload'])
      await waitFor('the live line', async () => (await chatLines(page)).length === 1)
      expect(await chatLines(page)).toEqual(['tester: after the reload'])
      await waitForOnline(page, ['ann'])
    },
    TEST_TIMEOUT_MS,
  )
})

describe('presence in Chromium, across two showcase processes on Redis', () => {
  const redisUrl = inject('redisUrl')
  const prefix = `e2e${randomBytes(5).toString('hex')}`
  const processes: Spawned[] = []

  /** `examples/showcase/main.ts` on a free port, on the test's Redis prefix; resolves with its URL. */
  async function startShowcaseProcess(): Promise<{ url: string; process: Spawned }> {
    const spawned = spawnProcess(process.execPath, ['--import', 'tsx', 'examples/showcase/main.ts'], {
      cwd: REPO,
      env: {
        ...process.env,
        PORT: '0',
        REDIS_URL: redisUrl,
        SWITCHYARD_PREFIX: prefix,
        SHOWCASE_WORKER: '0',
        SWITCHYARD_HEARTBEAT_MS: String(HEARTBEAT_MS),
        SWITCHYARD_STALE_AFTER_MS: String(STALE_AFTER_MS),
      },
    })
    processes.push(spawned)
    const [, url] = await spawned.waitForOutput(/open (http:\/\/127\.0\.0\.1:\d+)\//, 30_000)
    return { url: url!, process: spawned }
  }

  afterAll(async () => {
    for (const spawned of processes) spawned.kill()
    await Promise.all(processes.map((spawned) => spawned.exited))
    const cleaner = new RedisChannelLayer({ hosts: [redisUrl], prefix })
    await cleaner.flush()
    await cleaner.close()
  })

  it(
    'lists both pages, and after one process is killed with SIGKILL, only the other within staleAfterMs',
    async () => {
      const [a, b] = await Promise.all([startShowcaseProcess(), startShowcaseProcess()])
      const room = newRoom()
      const ann = await open('ann', `${a.url}/chat/?room=${room}&name=ann`)
      const bob = await open('bob', `${b.url}/chat/?room=${room}&name=bob`)
      await waitForState(ann, 'open')
      await waitForState(bob, 'open')
      await waitForOnline(ann, ['ann', 'bob'])
      await waitForOnline(bob, ['ann', 'bob'])
      // Messages cross the processes too.
      await bob.fill('#text', 'hello from the other process')
      await bob.click('#send')
      await waitFor('ann to see it', async () => (await chatLines(ann)).includes('bob: hello from the other process'))

      tolerated = refusedReconnect('ann') // ann's server is gone: her page keeps trying
      const killedAt = Date.now()
      a.process.kill()
      expect(await a.process.exited).toMatchObject({ signal: 'SIGKILL' })
      await waitForOnline(bob, ['bob'], STALE_AFTER_MS + 5_000)
      const tookMs = Date.now() - killedAt
      console.log(`e2e presence: ann left bob's list ${tookMs} ms after her process was killed`)
      // The layer's promise: a dead process's members are gone once it has been silent staleAfterMs, found by the
      // next sweep of a live process (one heartbeat later at most); the rest is the page's round trip.
      expect(tookMs).toBeLessThanOrEqual(STALE_AFTER_MS + 2 * HEARTBEAT_MS + 500)
    },
    TEST_TIMEOUT_MS,
  )
})
