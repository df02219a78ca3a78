/**
 * docs/performance/idle-connections.md: its command is one `npm run bench` accepts and runs on the built package,
 * for the idle-memory workload only, on systems the bench has; its before/after table has the rows the page
 * describes, and the files the page names as where the design lives exist.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'

import { describe, expect, it } from 'vitest'

import { readDoc, tableUnder } from '../support/markdown-tables.js'
import { BENCH_SYSTEMS, benchOptions, repoSource } from './bench-facts.js'
import { docBlock, repoRoot, shellCommands } from './doc-blocks.js'

const PAGE = 'docs/performance/idle-connections.md'
const page = readDoc(PAGE)
const source = repoSource

const SYSTEMS = BENCH_SYSTEMS

describe(PAGE, () => {
  it('idle-memory: npm run bench with --only memory, on systems the bench has', () => {
    const commands = shellCommands(docBlock('docs/performance/idle-connections.md', 'idle-memory'))
    expect(commands).toHaveLength(1)
    const match = /^npm run bench -- (.*)$/.exec(commands[0]!)
    expect(match, commands[0]).not.toBeNull()
    const { values } = parseArgs({ args: match![1]!.split(' '), options: benchOptions(), strict: true })
    expect(values.only).toBe('memory')
    const systems = String(values.systems).split(',')
    expect(systems).toEqual(['switchyard', 'ws', 'socketio'])
    for (const system of systems) expect(SYSTEMS).toContain(system)
  })

  it('measures the built package: npm run bench builds first, and the bench loads dist/', () => {
    const scripts = (JSON.parse(source('package.json')) as { scripts: Record<string, string> }).scripts
    expect(scripts.bench).toMatch(/^npm run build && tsx bench\/run\.ts$/)
    expect(source('bench/systems/switchyard-server.ts')).toMatch(/from 'switchyard-channels'/)
    const exports = (JSON.parse(source('package.json')) as { exports: Record<string, { default: string }> }).exports
    expect(exports['.']?.default).toMatch(/^\.\/dist\//)
  })

  it('has the before/after table the page describes, Switchyard lighter after than before', () => {
    const rows = tableUnder(page, 'Before and after', PAGE)
    const figures = new Map(
      rows.map((row) => [
        row.system ?? '',
        [Number(row['heap kib / connection']), Number(row['rss kib / connection'])] as const,
      ]),
    )
    const before = [...figures].find(([system]) => system.includes('`16af144`'))?.[1]
    const after = [...figures].find(([system]) => system.includes('the design on this page'))?.[1]
    expect(rows.map((row) => row.system)).toHaveLength(4)
    for (const [heap, rss] of figures.values()) {
      expect(heap).toBeGreaterThan(0)
      expect(rss).toBeGreaterThan(heap)
    }
    expect(after![0]).toBeLessThan(before![0])
    expect(after![1]).toBeLessThan(before![1])
  })

  it('names files that exist', () => {
    const named = [...page.matchAll(/`((?:src|bench|consumers)\/[\w/.-]+\.ts)`/g)].map((match) => match[1]!)
    expect(named.length).toBeGreaterThan(5)
    for (const path of named) expect(existsSync(join(repoRoot, path)), path).toBe(true)
  })
})
