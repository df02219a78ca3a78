import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

import { chromium, type BrowserContext, type Page } from 'playwright-core'

import { ensureChromium } from '../setup/chromium.js'

/**
 * Flags for Debian's Chromium on a machine with a closed network (/work/.library/env/machines/node.md): without the
 * background-networking ones, Chromium keeps dialling Google's hosts and logs each refusal.
 */
export const CHROMIUM_FLAGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

export const SCREENSHOT_DIR = resolve(import.meta.dirname, '../../test-output/screenshots')

/** A console error, an uncaught exception or a failed load seen on a page. */
export interface PageProblem {
  page: string
  kind: 'console.error' | 'pageerror' | 'crash'
  text: string
  /** `Date.now()` when it was seen, so a test can allow errors inside a window it caused (a server restart). */
  at: number
}

export interface BrowserSession {
  /** A new tab whose console errors, uncaught exceptions and crashes land in `problems`, labelled `label`. */
  newPage(label: string): Promise<Page>
  readonly problems: PageProblem[]
  /** Closes the browser and removes its profile; idempotent. */
  close(): Promise<void>
}

/**
 * Starts headless Debian Chromium (installing it first if needed, see `ensureChromium`) with a fresh profile in a
 * temp dir. A persistent context is how playwright-core takes a user-data dir; it is removed on `close()`.
 */
export async function launchBrowser(): Promise<BrowserSession> {
  const executablePath = await ensureChromium()
  const userDataDir = await mkdtemp(join(tmpdir(), 'switchyard-e2e-chromium-'))
  let context: BrowserContext
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath,
      headless: true,
      args: [...CHROMIUM_FLAGS],
      viewport: { width: 1024, height: 768 },
      timeout: 20_000,
    })
  } catch (error) {
    await rm(userDataDir, { recursive: true, force: true })
    throw error
  }
  const problems: PageProblem[] = []
  // A persistent context opens with one blank tab; it is reused for the first page so no stray tab lingers.
  const spare: Page[] = [...context.pages()]
  let closing: Promise<void> | undefined

  return {
    problems,
    async newPage(label) {
      const page = spare.shift() ?? (await context.newPage())
      page.on('console', (message) => {
        if (message.type() === 'error')
          problems.push({ page: label, kind: 'console.error', text: describeMessage(message), at: Date.now() })
      })
      page.on('pageerror', (error) => {
        problems.push({ page: label, kind: 'pageerror', text: error.stack ?? error.message, at: Date.now() })
      })
      page.on('crash', () => {
        problems.push({ page: label, kind: 'crash', text: 'the page crashed', at: Date.now() })
      })
      return page
    },
    close() {
      closing ??= (async () => {
        try {
          await context.close()
        } finally {
          await rm(userDataDir, { recursive: true, force: true })
        }
      })()
      return closing
    },
  }
}

function describeMessage(message: { text(): string; location(): { url: string; lineNumber: number } }): string {
  const { url, lineNumber } = message.location()
  return url === '' ? message.text() : `${message.text()} (${url}:${lineNumber})`
}

/**
 * Saves a full-page PNG as `test-output/screenshots/<name>.png` (gitignored) and returns its path and size, so the
 * caller can assert it is more than a blank frame.
 */
export async function screenshot(page: Page, name: string): Promise<{ path: string; bytes: number }> {
  if (!/^[\w.-]+$/.test(name)) throw new Error(`screenshot name must be a plain file name, got ${JSON.stringify(name)}`)
  await mkdir(SCREENSHOT_DIR, { recursive: true })
  const path = join(SCREENSHOT_DIR, `${name}.png`)
  await page.screenshot({ path, fullPage: true, animations: 'disabled' })
  return { path, bytes: (await stat(path)).size }
}

/** What an e2e file starts: a browser, and a server with its worker and layer (each may have failed to start). */
export interface E2eResources {
  readonly browser: BrowserSession | undefined
  readonly server: { close(): Promise<void> } | undefined
  readonly worker: { stop(): Promise<void> } | undefined
  readonly layer: { close(): Promise<void> }
}

/** Closes the browser and, in order, the server, worker and layer, each whatever happens to the other. */
export async function closeE2e({ browser, server, worker, layer }: E2eResources): Promise<void> {
  const results = await Promise.allSettled([
    browser?.close(),
    (async () => {
      await server?.close()
      await worker?.stop()
      await layer.close()
    })(),
  ])
  const failures = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []))
  if (failures.length > 0) throw new AggregateError(failures, 'closing the browser or the server failed')
}
