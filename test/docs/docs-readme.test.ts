/** docs/README.md: the book's contents link every page under docs/, and its repository layout names what exists. */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

import { describe, expect, it } from 'vitest'

import { docBlock, docPages, repoRoot } from './doc-blocks.js'

const folders = (dir: string): string[] =>
  readdirSync(join(repoRoot, dir), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()

describe('docs/README.md', () => {
  it('links every page of the book, each once', () => {
    const contents = readFileSync(join(repoRoot, 'docs', 'README.md'), 'utf8')
    const links = [...contents.matchAll(/\]\(([^)#]+\.md)\)/g)].map((match) => `docs/${match[1]!}`)
    const book = docPages().filter((page) => page.startsWith('docs/') && page !== 'docs/README.md')
    expect(links.filter((page) => page !== 'docs/../README.md').sort()).toEqual(book)
  })

  it('lays out the repository as it is: every folder it names exists, and it names every folder of src/ and test/', () => {
    const layout = docBlock('docs/README.md', 'layout')
    const entries = [...layout.matchAll(/^(\S+)\s/gm)].map((match) => match[1]!)
    expect(entries.filter((entry) => !existsSync(join(repoRoot, entry)))).toEqual([])
    const section = (top: string): string => {
      const start = layout.indexOf(`${top}/ `)
      const end = layout.slice(start).search(/\n\S/)
      return end === -1 ? layout.slice(start) : layout.slice(start, start + end)
    }
    const named = (top: string): string[] => [...section(top).matchAll(/\b([\w-]+)\//g)].map((match) => match[1]!)
    expect(folders('src').filter((folder) => !named('src').includes(folder))).toEqual([])
    expect(folders('test').filter((folder) => !named('test').includes(folder))).toEqual([])
    // Folders named inside an entry (`layers/ (memory, redis/)`) are somewhere under it.
    const under = (top: string): string[] =>
      readdirSync(join(repoRoot, top), { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => entry.name)
    for (const top of ['src', 'test'])
      expect(named(top).filter((folder) => folder !== top && !under(top).includes(folder))).toEqual([])
    const examples = folders('examples')
    expect(examples.filter((example) => !section('examples').includes(example))).toEqual([])
  })
})
