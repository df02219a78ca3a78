/**
 * The showcase (`npm start`) in real Chromium: chat with presence, progress over a WebSocket and over server-sent
 * events, reconnecting after a server restart, and a screenshot of every page in test-output/screenshots/.
 *
 * The showcase runs in this process (server and worker on one in-memory layer, as `npm start` does), with a faster
 * progress pace. A restart closes the server and serves again on the same port; the layer and the worker stay up,
 * as they would on Redis with the web process restarted. Any console error, uncaught exception or failed load on a
 * page fails the test it happened in.
 */
import { randomUUID } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import type { Socket } from 'node:net'

import type { Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'

import { CHAT_LAYER_OPTIONS } from '../../examples/showcase/chat-room-consumer.js'
import { createShowcase } from '../../examples/showcase/showcase.js'
import { InMemoryChannelLayer, runWorker, type WorkerHandle } from '../../src/index.js'
import { serve, type RunningServer } from '../../src/server/serve.js'
import { waitFor } from '../support/wait.js'
import { closeE2e, launchBrowser, screenshot, type BrowserSession, type PageProblem } from './browser.js'

/** Ten steps of 50 ms and a 200 ms retry: a job takes about a second instead of three. */
const PROGRESS_TIMING = { stepMs: 50, retryDelayMs: 200 }
const UI_TIMEOUT_MS = 10_000
const TEST_TIMEOUT_MS = 25_000
/**
 * A restart under a loaded CI machine (the torture test's worker processes on the other core) can take seconds,
 * and the pages' backoff then waits up to 15 s (10 s plus jitter) between attempts: wait for two of them.
 */
const RECONNECT_TIMEOUT_MS = 40_000
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
/** A blank 1024x768 page compresses to about 4 KB; a page with text, inputs and a bar is several times that. */
const MIN_SCREENSHOT_BYTES = 12_000

const layer = new InMemoryChannelLayer(CHAT_LAYER_OPTIONS)
// Private webhooks on, so the page can deliver to the showcase's own local receiver (127.0.0.1).
const showcase = createShowcase({
  layer,
  progressTiming: PROGRESS_TIMING,
  allowPrivateWebhooks: true,
  webhookRetryDelayMs: 100,
})
let browser: BrowserSession | undefined
let server: RunningServer | undefined
let worker: WorkerHandle | undefined
let port = 0
const pages: Page[] = []
/** Problems a test expects (a refused reconnect while the server is down); everything else fails the test. */
let tolerated: (problem: PageProblem) => boolean = () => false

/** Every TCP connection of the current server, upgraded sockets included, so a crash can cut them. */
const connections = new Set<Socket>()

async function startServer(): Promise<RunningServer> {
  server = await serve({ application: showcase.application, layer, host: '127.0.0.1', port })
  server.app.server.on('connection', (socket: Socket) => {
    connections.add(socket)
    socket.once('close', () => connections.delete(socket))
  })
  return server
}

/**
 * `graceful`: `close()`, as on SIGTERM. `crash`: every connection is cut without a close frame, as when the process
 * dies; the listener closes within milliseconds, long before the client's first retry (250 ms at the earliest).
 */
async function stopServer(mode: 'graceful' | 'crash'): Promise<void> {
  if (mode === 'crash') for (const socket of connections) socket.destroy()
  connections.clear()
  await server?.close()
}

beforeAll(async () => {
  // Chromium may be installed here (apt, tens of seconds): hence the long hook timeout.
  browser = await launchBrowser()
  port = (await startServer()).port
  worker = runWorker({
    application: showcase.application,
    layer,
    channels: showcase.channels,
    shutdownTimeoutMs: 2_000,
  })
}, 300_000)

afterAll(() => closeE2e({ browser, server, worker, layer }))

afterEach(async () => {
  const problems = browser?.problems.splice(0) ?? []
  await Promise.all(pages.splice(0).map((page) => page.close()))
  const unexpected = problems.filter((problem) => !tolerated(problem))
  tolerated = () => false
  expect(unexpected, 'console errors, uncaught exceptions or crashes on the pages').toEqual([])
})

async function open(label: string, path: string): Promise<Page> {
  if (browser === undefined) throw new Error('the browser did not start')
  const page = await browser.newPage(label)
  pages.push(page)
  await page.goto(`http://127.0.0.1:${port}${path}`, { timeout: UI_TIMEOUT_MS })
  return page
}

const textOf = async (page: Page, selector: string): Promise<string> =>
  ((await page.locator(selector).textContent({ timeout: UI_TIMEOUT_MS })) ?? '').trim()

/** Waits until the element's trimmed text is `expected`, failing with what it last was. */
async function waitForText(page: Page, selector: string, expected: string, timeoutMs = UI_TIMEOUT_MS): Promise<void> {
  let last = ''
  try {
    await waitFor(
      `${selector} to read ${JSON.stringify(expected)}`,
      async () => (last = await textOf(page, selector)) === expected,
      { timeoutMs, intervalMs: 50 },
    )
  } catch (error) {
    throw new Error(`${(error as Error).message}; it reads ${JSON.stringify(last)}`, { cause: error })
  }
}

const namesOnline = (page: Page): Promise<string[]> => page.locator('#online li').allTextContents()

async function waitForOnline(page: Page, names: readonly string[]): Promise<void> {
  const want = [...names].sort()
  await waitFor(
    `#online to list ${want.join(', ')}`,
    async () => JSON.stringify((await namesOnline(page)).sort()) === JSON.stringify(want),
    { timeoutMs: UI_TIMEOUT_MS, intervalMs: 50 },
  )
}

async function say(page: Page, text: string): Promise<void> {
  await page.fill('#text', text)
  await page.click('#send')
}

const logHas = async (page: Page, line: string): Promise<boolean> =>
  (await page.locator('#log .msg').allTextContents()).some((text) => text.trim() === line)

async function waitForLine(page: Page, line: string): Promise<void> {
  await waitFor(`#log to show ${JSON.stringify(line)}`, () => logHas(page, line), {
    timeoutMs: UI_TIMEOUT_MS,
    intervalMs: 50,
  })
}

async function expectScreenshot(page: Page, name: string): Promise<void> {
  const shot = await screenshot(page, name)
  const bytes = await readFile(shot.path)
  expect(bytes.subarray(0, 8).equals(PNG_SIGNATURE), `${shot.path} is a PNG`).toBe(true)
  expect(shot.bytes, `${shot.path} holds more than a blank page`).toBeGreaterThan(MIN_SCREENSHOT_BYTES)
}

/** Two tabs in a fresh room, both open and listed online. */
async function twoInARoom(): Promise<{ ann: Page; bob: Page; room: string }> {
  const room = `e2e-${randomUUID().slice(0, 8)}`
  const ann = await open('ann', `/chat/?room=${room}&name=ann`)
  const bob = await open('bob', `/chat/?room=${room}&name=bob`)
  await waitForText(ann, '#status', 'open')
  await waitForText(bob, '#status', 'open')
  await waitForOnline(ann, ['ann', 'bob'])
  await waitForOnline(bob, ['ann', 'bob'])
  return { ann, bob, room }
}

describe('the browser harness', () => {
  it(
    'records console errors and uncaught exceptions on a page',
    async () => {
      const page = await open('harness', '/')
      await page.evaluate(
        "console.error('deliberate console error'); setTimeout(() => { throw new Error('deliberate throw') })",
      )
      const seen = (): PageProblem[] => (browser?.problems ?? []).filter((problem) => problem.page === 'harness')
      await waitFor('both problems to be recorded', () => seen().length === 2)
      expect(seen().map(({ kind, text }) => ({ kind, text: text.split('\n')[0] }))).toEqual([
        { kind: 'console.error', text: 'deliberate console error' },
        { kind: 'pageerror', text: 'Error: deliberate throw' },
      ])
      tolerated = (problem) => problem.page === 'harness' && /deliberate/.test(problem.text)
    },
    TEST_TIMEOUT_MS,
  )
})

describe('the showcase in Chromium', () => {
  it(
    'serves the index with a link to every demo',
    async () => {
      const page = await open('index', '/')
      for (const id of ['chat', 'progress', 'webhooks', 'sse', 'dashboard']) {
        expect(await page.locator(`#link-${id}`).count(), `#link-${id}`).toBe(1)
      }
      await expectScreenshot(page, 'index')
    },
    TEST_TIMEOUT_MS,
  )

  it(
    'chats between two pages in one room, with both names online',
    async () => {
      const { ann, bob, room } = await twoInARoom()
      expect(await textOf(ann, '#room')).toBe(room)

      await say(ann, 'hello from ann')
      await waitForLine(bob, 'ann: hello from ann')
      await waitForLine(ann, 'ann: hello from ann')
      await say(bob, 'hi ann, bob here')
      await waitForLine(ann, 'bob: hi ann, bob here')
      await waitForLine(bob, 'bob: hi ann, bob here')
      expect(await ann.locator('#log .msg').count()).toBe(2)
      expect(await bob.locator('#log .msg').count()).toBe(2)

      await expectScreenshot(bob, 'chat')
    },
    TEST_TIMEOUT_MS,
  )

  it(
    'drives the progress bar to 100 % over a WebSocket, showing exactly one retry',
    async () => {
      const page = await open('progress', '/progress/')
      await page.click('#start')
      await waitForText(page, '#state', 'succeeded')

      expect(await textOf(page, '#percent')).toBe('100%')
      expect(await page.locator('#bar').getAttribute('aria-valuenow')).toBe('100')
      expect(await page.locator('#bar .fill').getAttribute('style')).toMatch(/width:\s*100%/)
      const retries = await page.locator('#retries li').allTextContents()
      expect(retries).toHaveLength(1)
      expect(retries[0]).toMatch(/^attempt 1 failed \(injected failure at 40 %/)
      expect(await textOf(page, '#attempt')).toBe('2')
      expect(await textOf(page, '#error')).toBe('')

      await expectScreenshot(page, 'progress')
    },
    TEST_TIMEOUT_MS,
  )

  it(
    'drives the same progress to 100 % over server-sent events',
    async () => {
      const page = await open('sse', '/sse/')
      await page.click('#start')
      await waitForText(page, '#state', 'succeeded')

      expect(await textOf(page, '#percent')).toBe('100%')
      expect(await page.locator('#bar').getAttribute('aria-valuenow')).toBe('100')
      const retries = await page.locator('#retries li').allTextContents()
      expect(retries).toHaveLength(1)
      expect(retries[0]).toMatch(/^attempt 1 failed \(injected failure at 40 %/)
      expect(await textOf(page, '#attempt')).toBe('2')
      expect(await textOf(page, '#error')).toBe('')
      // The page closes its EventSource on `done`; otherwise it would reconnect to a finished stream forever.
      expect(await textOf(page, '#status')).toBe('closed')

      await expectScreenshot(page, 'sse')
    },
    TEST_TIMEOUT_MS,
  )

  it(
    'delivers a webhook after one retry, and dead-letters a 404, on the webhooks page',
    async () => {
      const page = await open('webhooks', '/webhooks/')
      await waitForText(page, '#status', 'open')

      // The local receiver fails a delivery's first call with 500 and accepts the retry.
      await page.click('#preset-flaky')
      await page.click('#deliver')
      const flaky = page.locator('#deliveries tr[data-status="succeeded"]')
      await flaky.waitFor({ timeout: UI_TIMEOUT_MS })
      expect(await flaky.locator('[data-field="attempts"]').textContent()).toBe('2')

      // A 4xx is final: no retry, straight to the dead letters.
      await page.click('#preset-404')
      await page.click('#deliver')
      const dead = page.locator('#dead-letters tr')
      await dead.waitFor({ timeout: UI_TIMEOUT_MS })
      expect(await dead.locator('[data-field="attempts"]').textContent()).toBe('1')
      expect(await dead.locator('[data-field="error"]').textContent()).toMatch(/404/)
      expect(await textOf(page, '#form-error')).toBe('')

      await expectScreenshot(page, 'webhooks')
    },
    TEST_TIMEOUT_MS,
  )

  // `graceful` is a deploy (SIGTERM: every socket gets 1001); `crash` is a dead process (no close frame: 1006).
  it.for<'graceful' | 'crash'>(['graceful', 'crash'])(
    'reconnects by itself after a %s server restart on the same port, and keeps working',
    { timeout: RECONNECT_TIMEOUT_MS + TEST_TIMEOUT_MS },
    async (mode, { onTestFailed }) => {
      // Each phase's end, so a slow run shows where its time went, and a failed one (a timeout too) where it stopped.
      const phases: string[] = []
      onTestFailed(() => {
        console.log(`e2e ${mode} restart failed after: ${phases.join(', ') || 'nothing (it failed before the stop)'}`)
      })
      const { ann, bob } = await twoInARoom()
      await say(ann, 'before the restart')
      await waitForLine(bob, 'ann: before the restart')

      const downAt = Date.now()
      let upAt = Infinity
      const refused = (problem: PageProblem): boolean =>
        problem.at >= downAt &&
        problem.at <= upAt &&
        problem.kind === 'console.error' &&
        /^WebSocket connection to 'ws:\/\/127\.0\.0\.1:\d+\/ws\/chat\/[\w-]+\/(?:\?[^']*)?' failed: .*ERR_CONNECTION_REFUSED/.test(
          problem.text,
        )
      // While the server is down, Chromium logs each refused attempt as a console error itself; nothing else may be.
      tolerated = refused
      const mark = (phase: string): void => {
        phases.push(`${phase} +${Date.now() - downAt} ms`)
      }
      mark('stopping')
      await stopServer(mode)
      mark('stopped')
      await waitForText(ann, '#status', 'reconnecting')
      await waitForText(bob, '#status', 'reconnecting')
      mark('reconnecting')
      // Down long enough for an attempt (the first comes 250-750 ms after the drop) to be refused.
      await new Promise((resolve) => setTimeout(resolve, 1_000))
      await startServer()
      mark('restarted')

      await waitForText(ann, '#status', 'open', RECONNECT_TIMEOUT_MS)
      await waitForText(bob, '#status', 'open', RECONNECT_TIMEOUT_MS)
      mark('reopened')
      console.log(`e2e ${mode} restart: ${phases.join(', ')}`)
      upAt = Date.now()
      // Each page kept trying while the server was down, then came back by itself.
      for (const label of ['ann', 'bob']) {
        const attempts = (browser?.problems ?? []).filter((problem) => problem.page === label && refused(problem))
        expect(attempts.length, `refused reconnect attempts of ${label}`).toBeGreaterThanOrEqual(1)
      }
      // Each page recovered what the room sent while it was away (its history outlives the server: the layer).
      for (const page of [ann, bob])
        await page.locator('#log [data-recovered="true"]').waitFor({ timeout: UI_TIMEOUT_MS })
      // Each page joined the room again on reconnect: presence is rebuilt, and messages flow both ways.
      await waitForOnline(ann, ['ann', 'bob'])
      await waitForOnline(bob, ['ann', 'bob'])
      await say(ann, 'after the restart')
      await waitForLine(bob, 'ann: after the restart')
      await say(bob, 'still here')
      await waitForLine(ann, 'bob: still here')
    },
  )
})
