/**
 * The dashboard in real Chromium, mounted as the showcase mounts it (`mountMonitoring`, token from the
 * environment): numbers change live while the test sends messages and a worker consumes them, the replay and purge
 * buttons act on real dead letters, the Remove button removes a schedule, and a browser without the token is
 * refused. A screenshot lands in test-output/screenshots/dashboard.png. Any console error, uncaught exception or
 * crash fails the test it is in.
 */
import { readFile } from 'node:fs/promises'

import type { Dialog, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'

import { mountMonitoring } from '../../examples/showcase/monitoring.js'
import { createShowcase } from '../../examples/showcase/showcase.js'
import {
  ChannelNameRouter,
  InMemoryChannelLayer,
  NonRetryableError,
  ProtocolTypeRouter,
  RetryingConsumer,
  runWorker,
  type WorkerHandle,
} from '../../src/index.js'
import { serve, type RunningServer } from '../../src/server/serve.js'
import { sleep, waitFor } from '../support/wait.js'
import { closeE2e, launchBrowser, screenshot, type BrowserSession } from './browser.js'

const TOKEN = 'e2e-dashboard-token-0123456789'
const JOBS = 'dashboard.jobs'
const FAILS = 'dashboard.fails'
const SENT = 12
const UI_TIMEOUT_MS = 10_000
const TEST_TIMEOUT_MS = 30_000
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
const MIN_SCREENSHOT_BYTES = 20_000

/** A quick job: slow enough that the backlog is seen draining, fast enough for a short test. */
class QuickJob extends RetryingConsumer {
  static override concurrency = 2
  // Renewals, and so worker reports, every 100 ms: the workers table follows closely.
  static override visibilityMs = 300
  async job_run(): Promise<void> {
    await sleep(40)
  }
}

class FailingJob extends RetryingConsumer {
  static override visibilityMs = 300
  async job_fail(): Promise<void> {
    throw new NonRetryableError('the job always fails')
  }
}

const workerApplication = ProtocolTypeRouter({
  channel: ChannelNameRouter({ [JOBS]: QuickJob.asApp(), [FAILS]: FailingJob.asApp() }),
})

const layer = new InMemoryChannelLayer()
const showcase = createShowcase({ layer })
let browser: BrowserSession | undefined
let server: RunningServer | undefined
let worker: WorkerHandle | undefined
const pages: Page[] = []

beforeAll(async () => {
  browser = await launchBrowser()
  server = await serve({
    application: showcase.application,
    layer,
    host: '127.0.0.1',
    port: 0,
    configure: (app) =>
      mountMonitoring(app, {
        layer,
        env: { DASHBOARD_TOKEN: TOKEN },
        dashboard: { sampleIntervalMs: 100, historyMs: 60_000 },
      }),
  })
}, 300_000)

afterAll(() => closeE2e({ browser, server, worker, layer }))

afterEach(async () => {
  const problems = browser?.problems.splice(0) ?? []
  await Promise.all(pages.splice(0).map((page) => page.close()))
  // The refused page's own 401 is the point of that test; Chromium reports the status as a console error.
  const unexpected = problems.filter((problem) => !(problem.page === 'refused' && /401/.test(problem.text)))
  expect(unexpected, 'console errors, uncaught exceptions or crashes on the pages').toEqual([])
})

async function open(label: string, path: string): Promise<Page> {
  if (browser === undefined || server === undefined) throw new Error('the browser or the server did not start')
  const page = await browser.newPage(label)
  pages.push(page)
  await page.goto(`${server.url}${path}`, { timeout: UI_TIMEOUT_MS })
  return page
}

const cellText = async (page: Page, selector: string): Promise<string> => {
  const locator = page.locator(selector)
  return (await locator.count()) === 0 ? '' : ((await locator.first().textContent()) ?? '').trim()
}

/** Waits until `check` holds on the element's text, failing with what it last read. */
async function waitForCell(
  page: Page,
  selector: string,
  what: string,
  check: (text: string) => boolean,
): Promise<void> {
  let last = ''
  try {
    await waitFor(`${selector} to be ${what}`, async () => check((last = await cellText(page, selector))), {
      timeoutMs: UI_TIMEOUT_MS,
      intervalMs: 25,
    })
  } catch (error) {
    throw new Error(`${(error as Error).message}; it reads ${JSON.stringify(last)}`, { cause: error })
  }
}

const letterRows = (page: Page): Promise<string[]> =>
  page
    .locator(`#dead-letters section[data-channel="${FAILS}"] tbody tr`)
    .evaluateAll((rows) => rows.map((row) => (row as unknown as { dataset: { id: string } }).dataset.id))

/** Answers the next confirm() dialog, and returns its text. */
function nextDialog(page: Page, accept: boolean): Promise<string> {
  return new Promise((resolve) => {
    page.once('dialog', (dialog: Dialog) => {
      resolve(dialog.message())
      void (accept ? dialog.accept() : dialog.dismiss())
    })
  })
}

describe('the dashboard in Chromium', () => {
  it(
    'is linked from the showcase index and refuses a browser without the token',
    async () => {
      const page = await open('refused', '/')
      await page.click('#link-dashboard')
      await page.waitForURL(/\/switchyard\/$/, { timeout: UI_TIMEOUT_MS })
      expect(await page.locator('h1').textContent()).toBe('Unauthorized')
      expect(await page.locator('#channels').count()).toBe(0)
      const api = await page.evaluate(async () => (await fetch('/switchyard/api/state')).status)
      expect(api).toBe(401)
    },
    TEST_TIMEOUT_MS,
  )

  it(
    'shows backlog rising and draining and the worker counting, live, without a reload',
    async () => {
      const page = await open('dashboard', `/switchyard/?token=${TOKEN}&refreshMs=100`)
      expect(new URL(page.url()).search, 'the token is dropped from the address bar').toBe('?refreshMs=100')
      await page.evaluate('window.notReloaded = true')

      for (let i = 0; i < SENT; i++) await layer.send(JOBS, { type: 'job.run', n: i })
      const backlog = `#channels tr[data-channel="${JOBS}"] td[data-field="backlog"]`
      await waitForCell(page, backlog, `${SENT}`, (text) => text === `${SENT}`)

      worker = runWorker({ application: workerApplication, layer, channels: [JOBS, FAILS], shutdownTimeoutMs: 1_000 })
      await waitForCell(page, backlog, 'draining', (text) => Number(text) < SENT)
      await waitForCell(page, backlog, '0', (text) => text === '0')
      const processed = `#workers tr[data-channel="${JOBS}"] td[data-field="processed"]`
      await waitForCell(page, processed, `${SENT}`, (text) => text === `${SENT}`)
      // Alive means a report younger than three renewals (300 ms here): on a loaded host one read can fall in a late
      // report's gap (one CI run read "no"), so the cell must read yes within the UI timeout, not at one instant.
      const alive = `#workers tr[data-channel="${JOBS}"] td[data-field="alive"]`
      await waitForCell(page, alive, 'yes', (text) => text === 'yes')
      expect(Number(await page.locator('#chart').getAttribute('data-points'))).toBeGreaterThan(1)
      expect(await page.locator('#chart svg polyline').count()).toBe(2)
      expect(await page.evaluate('window.notReloaded'), 'the page was never reloaded').toBe(true)
    },
    TEST_TIMEOUT_MS,
  )

  it(
    'inspects, replays and purges real dead letters with the buttons, after a confirm',
    async () => {
      if (worker === undefined) throw new Error('the previous test starts the worker')
      const page = await open('dashboard', `/switchyard/?token=${TOKEN}&refreshMs=100`)
      for (let i = 0; i < 3; i++) await layer.send(FAILS, { type: 'job.fail', n: i })
      await waitFor('three dead letters on the page', async () => (await letterRows(page)).length === 3, {
        timeoutMs: UI_TIMEOUT_MS,
      })
      await waitForCell(
        page,
        `#channels tr[data-channel="${FAILS}"] td[data-field="dead-letters"]`,
        '3',
        (t) => t === '3',
      )
      const before = await letterRows(page)
      const first = before[0] ?? ''

      await page.click(`#dead-letters tr[data-id="${first}"] button[data-action="inspect"]`)
      const detail = await page.locator('#dead-letter-detail').textContent()
      expect(JSON.parse(detail ?? '')).toMatchObject({ id: first, channel: FAILS, message: { type: 'job.fail' } })

      // Replayed, the task fails again and comes back as a new dead letter.
      const asked = nextDialog(page, true)
      await page.click(`#dead-letters tr[data-id="${first}"] button[data-action="replay"]`)
      expect(await asked).toContain(`Replay dead letter ${first}`)
      await waitFor(
        'the replayed letter to die again under a new id',
        async () => {
          const ids = await letterRows(page)
          return ids.length === 3 && !ids.includes(first)
        },
        { timeoutMs: UI_TIMEOUT_MS },
      )
      expect((await layer.tasks.listDeadLetters(FAILS)).map((letter) => letter.id)).not.toContain(first)
      await sleep(300) // a few chart samples after the work, for the screenshot
      const shot = await screenshot(page, 'dashboard')
      expect((await readFile(shot.path)).subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true)
      expect(shot.bytes).toBeGreaterThan(MIN_SCREENSHOT_BYTES)

      // Dismissed, nothing happens.
      const dismissed = nextDialog(page, false)
      await page.click(`#dead-letters section[data-channel="${FAILS}"] h3 button[data-action="purge"]`)
      expect(await dismissed).toContain(`Purge every dead letter of ${FAILS}`)
      await sleep(300)
      expect(await layer.tasks.listDeadLetters(FAILS)).toHaveLength(3)

      const accepted = nextDialog(page, true)
      await page.click(`#dead-letters section[data-channel="${FAILS}"] h3 button[data-action="purge"]`)
      await accepted
      await waitForCell(page, '#dead-letters', 'empty', (text) => text === 'No dead letters.')
      expect(await layer.tasks.listDeadLetters(FAILS)).toEqual([])
      await waitForCell(page, '#status', 'purged or updated', (text) => /Purged 3|Updated/.test(text))
    },
    TEST_TIMEOUT_MS,
  )

  it(
    'removes a schedule with its button, after a confirm',
    async () => {
      // Hourly: it never fires during the test, so its row only changes when the button removes it.
      await layer.tasks.schedule('dashboard-beat', { channel: JOBS, message: { type: 'job.run' }, everyMs: 3_600_000 })
      const page = await open('dashboard', `/switchyard/?token=${TOKEN}&refreshMs=100`)
      const row = '#schedules tr[data-schedule="dashboard-beat"]'
      await waitForCell(page, `${row} td[data-field="channel"]`, JOBS, (text) => text === JOBS)

      const dismissed = nextDialog(page, false)
      await page.click(`${row} button[data-action="remove-schedule"]`)
      expect(await dismissed).toContain('Remove schedule dashboard-beat?')
      await sleep(300)
      expect((await layer.tasks.listSchedules()).map((schedule) => schedule.id)).toEqual(['dashboard-beat'])

      const accepted = nextDialog(page, true)
      await page.click(`${row} button[data-action="remove-schedule"]`)
      await accepted
      await waitForCell(page, '#schedules tbody', 'empty', (text) => text === 'No schedules.')
      expect(await layer.tasks.listSchedules()).toEqual([])
    },
    TEST_TIMEOUT_MS,
  )
})
