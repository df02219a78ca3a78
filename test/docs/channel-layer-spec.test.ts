/**
 * docs/channel-layer-spec.md against the code: its examples run on the in-memory layer (the interface example on
 * Redis too), and its tables list exactly the `ChannelLayer` methods, the counters of `stats()`, the error classes
 * and codes, the extensions both layers have, and the `describe` groups of the conformance suite.
 */
import { randomBytes } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

import ts from 'typescript'
import { describe, expect, inject, it } from 'vitest'

import * as root from 'switchyard-channels'
import {
  InMemoryChannelLayer,
  isInspectable,
  isPurgeable,
  MAX_NAME_LENGTH,
  type ChannelLayer,
  type LayerStats,
} from 'switchyard-channels'
import { RedisChannelLayer } from 'switchyard-channels/redis'

import { firstCodeSpan, readDoc, tableUnder, type TableRow } from '../support/markdown-tables.js'
import { docBlock, docProject, repoRoot } from './doc-blocks.js'

const PAGE = 'docs/channel-layer-spec.md'
const page = readDoc(PAGE)
const rowsUnder = (heading: string): TableRow[] => tableUnder(page, heading, PAGE)
const codeSpans = (cell: string | undefined): string[] => [...(cell ?? '').matchAll(/`([^`]*)`/g)].map((m) => m[1]!)

/** The members `ChannelLayer` declares in src/layers/channel-layer.ts, read with TypeScript's parser. */
function channelLayerMethods(): string[] {
  const file = join(repoRoot, 'src', 'layers', 'channel-layer.ts')
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true)
  const found = source.statements.find(
    (statement): statement is ts.InterfaceDeclaration =>
      ts.isInterfaceDeclaration(statement) && statement.name.text === 'ChannelLayer',
  )
  if (found === undefined) throw new Error('src/layers/channel-layer.ts declares no ChannelLayer')
  return found.members.map((member) => (member.name as ts.Identifier).text)
}

/** The titles of the conformance suite's `describe` blocks (the per-backend wrapper left out). */
function conformanceGroups(): string[] {
  const dir = join(repoRoot, 'test', 'conformance')
  return readdirSync(dir)
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'))
    .flatMap((file) => [...readFileSync(join(dir, file), 'utf8').matchAll(/\bdescribe\('([^']+)'/g)].map((m) => m[1]!))
}

describe('docs/channel-layer-spec.md', () => {
  it('interface.ts: announce() works on any ChannelLayer, the memory and the Redis layer alike', async () => {
    const project = await docProject('docs/channel-layer-spec.md', ['interface.ts'])
    const { announce } = await project.import<{
      announce: (layer: ChannelLayer, room: string, text: string) => Promise<LayerStats>
    }>('interface.ts')
    const layers: ChannelLayer[] = [
      new InMemoryChannelLayer(),
      new RedisChannelLayer({ hosts: [inject('redisUrl')], prefix: `d${randomBytes(6).toString('hex')}` }),
    ]
    for (const layer of layers) {
      try {
        const member = await layer.newChannel()
        await layer.groupAdd('chat.lobby', member)
        const stats = await announce(layer, 'lobby', 'hello')
        expect(stats).toMatchObject({ groupSends: 1, sent: 1, dropped: 0 })
        expect(await layer.receive(member)).toEqual({ type: 'chat.message', text: 'hello' })
      } finally {
        await layer.flush()
        await layer.close()
      }
    }
  })

  it('groups.ts: a full member misses the group message, an expired one leaves the group', async () => {
    const project = await docProject('docs/channel-layer-spec.md', ['groups.ts'])
    const run = await project.import('groups.ts')
    expect(run.toAlice).toEqual({ type: 'chat.message', text: 'hi' })
    expect(run.afterFirst).toMatchObject({ sent: 2, received: 1, dropped: 1, expired: 0 })
    expect(run.toAliceAgain).toEqual({ type: 'chat.message', text: 'still there?' })
    expect(run.afterSecond).toMatchObject({ sent: 3, received: 2, dropped: 1, expired: 1, groupSends: 2 })
  })

  it('cancel.ts: a timed-out receive rejects with the reason and loses nothing', async () => {
    const project = await docProject('docs/channel-layer-spec.md', ['cancel.ts'])
    const run = await project.import<{ timedOut: unknown; next: unknown }>('cancel.ts')
    expect(run.timedOut).toBeInstanceOf(DOMException)
    expect((run.timedOut as DOMException).name).toBe('TimeoutError')
    expect(run.next).toEqual({ type: 'job.run', id: 7 })
  })

  it('profile-error: the error a class instance in a message gets, word for word', async () => {
    class Profile {
      readonly id = 1
    }
    const layer = new InMemoryChannelLayer()
    const error = await layer
      .send('profiles', { type: 'profile.updated', user: { profile: new Profile() } } as never)
      .catch((caught: unknown) => caught as Error)
    await layer.close()
    expect(`${error!.name}: ${error!.message}\n`).toBe(docBlock('docs/channel-layer-spec.md', 'profile-error'))
  })

  it('takes messages nested 64 levels deep, and refuses deeper ones', async () => {
    const nested = (levels: number): Record<string, unknown> => {
      const message: Record<string, unknown> = { type: 'deep.message' }
      let inner = message
      for (let level = 1; level < levels; level++) inner = inner.next = {}
      return message
    }
    const layer = new InMemoryChannelLayer()
    await layer.send('deep', nested(64) as never)
    await expect(layer.send('deep', nested(65) as never)).rejects.toMatchObject({
      code: 'SWY_MESSAGE_NOT_SERIALIZABLE',
    })
    await layer.close()
    expect(page).toContain('nested at most 64 levels deep')
  })

  it('lists exactly the methods of ChannelLayer', () => {
    // `presence` is a property with methods of its own: its row starts `presence.join(`.
    const listed = rowsUnder('The interface').map((row) => /^`(\w+)[(.]/.exec(row.method ?? '')?.[1])
    expect(listed).toEqual(channelLayerMethods())
  })

  it('lists exactly the counters of stats()', () => {
    const layer = new InMemoryChannelLayer()
    const counters = rowsUnder('Counters').map((row) => firstCodeSpan(row.counter))
    expect(counters.sort()).toEqual(Object.keys(layer.stats()).sort())
  })

  it('gives each error its class and code, as the package exports them', () => {
    const exported = root as unknown as Record<string, { code?: unknown } | undefined>
    const errors = rowsUnder('Errors')
    expect(errors.length).toBeGreaterThan(5)
    for (const row of errors) expect(exported[firstCodeSpan(row.error)!]?.code).toBe(firstCodeSpan(row.code))
    // The messages table names class and code side by side: `InvalidMessageError` (`SWY_INVALID_MESSAGE`).
    for (const row of rowsUnder('Messages')) {
      const [name, code] = codeSpans(row.error)
      expect(exported[name!]?.code).toBe(code)
    }
  })

  it('says what names newChannel makes and how long names may be', async () => {
    expect(MAX_NAME_LENGTH).toBe(100)
    expect(page).toContain('`MAX_NAME_LENGTH` is 100')
    const layer = new InMemoryChannelLayer()
    const name = await layer.newChannel()
    await layer.close()
    expect(name).toMatch(/^specific\.[0-9a-f]{32}![0-9a-f]{32}$/)
    expect(page).toContain(`${name.length} characters with the default prefix`)
  })

  it('lists extensions both built-in layers have', async () => {
    const rows = rowsUnder('Extensions')
    expect(rows.map((row) => /^`(\w+)/.exec(row.extension ?? '')?.[1])).toEqual([
      'inspect',
      'purgeExpiredMemberships',
      'tasks',
    ])
    const redis = new RedisChannelLayer({ hosts: [inject('redisUrl')], prefix: `d${randomBytes(6).toString('hex')}` })
    for (const layer of [new InMemoryChannelLayer(), redis]) {
      expect(isInspectable(layer)).toBe(true)
      expect(isPurgeable(layer)).toBe(true)
      expect(typeof layer.tasks).toBe('object')
      await layer.close()
    }
  })

  it('describes every group of the conformance suite, and only those', () => {
    const groups = rowsUnder('Conformance').map((row) => row.group)
    expect(groups.sort()).toEqual(conformanceGroups().sort())
  })
})
