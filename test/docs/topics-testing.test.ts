/**
 * docs/topics/testing.md: the page's own test files (chat.test.ts, emails.test.ts) run here as written, their tests
 * registered under this file's describes; and the conformance suite copied as the page says (its files without the
 * `*.test.ts`, imports changed to `switchyard-channels`) run against a layer of one's own.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import { afterAll, beforeEach, describe, expect } from 'vitest'

import { InMemoryChannelLayer, type LayerOptions, type LayerSendOptions, type Message } from 'switchyard-channels'

import { docProject, repoRoot } from './doc-blocks.js'

/** Registers the tests a page's test file defines under the current describe, and checks that `count` ran. */
function runsItsTests(count: number): void {
  let ran = 0
  beforeEach(() => {
    ran++
  })
  afterAll(() => {
    expect(ran).toBe(count)
  })
}

describe('chat.test.ts, as the page shows it', async () => {
  runsItsTests(5)
  const project = await docProject('docs/topics/testing.md', ['chat.ts', 'chat.test.ts'])
  await project.import('chat.test.ts')
})

describe('emails.test.ts, as the page shows it', async () => {
  runsItsTests(1)
  const project = await docProject('docs/topics/testing.md', ['emails.ts', 'emails.test.ts'])
  await project.import('emails.test.ts')
})

/** A layer of one's own: the in-memory layer, counting what is sent to each channel. */
class CountingLayer extends InMemoryChannelLayer {
  readonly sentTo = new Map<string, number>()

  override async send(channel: string, message: Message, options?: LayerSendOptions): Promise<void> {
    await super.send(channel, message, options)
    this.sentTo.set(channel, (this.sentTo.get(channel) ?? 0) + 1)
  }
}

describe('the conformance suite, copied into a project as the page says', async () => {
  const project = await docProject('docs/topics/testing.md', [])
  const suite = join(repoRoot, 'test', 'conformance')
  const files = readdirSync(suite).filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'))
  expect(files).toContain('describe-channel-layer.ts')
  for (const file of files) {
    const source = readFileSync(join(suite, file), 'utf8')
    await writeFile(project.path(file), source.replaceAll("'../../src/index.js'", "'switchyard-channels'"))
    expect(readFileSync(project.path(file), 'utf8')).not.toMatch(/from '\.\.\//)
  }
  const { describeChannelLayer } = await project.import<{
    describeChannelLayer: (name: string, makeLayer: (options?: LayerOptions) => CountingLayer) => void
  }>('describe-channel-layer.ts')
  describeChannelLayer('CountingLayer', (options) => new CountingLayer(options))
})
