/**
 * The docs harness: every code block in README.md and docs/**\/*.md is run by a test, README.md stays a front
 * door (at most 15 KB), and every relative link and anchor in them leads somewhere. How to name and wire a block:
 * the header of ./doc-blocks.ts.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { dirname, join, normalize } from 'node:path'

import { describe, expect, it } from 'vitest'

import { InMemoryChannelLayer } from 'switchyard-channels'

import {
  allDocBlocks,
  docPages,
  docProject,
  PAGES_BEING_MOVED,
  parseBlocks,
  repoRoot,
  shellCommands,
  type DocBlock,
} from './doc-blocks.js'

const README_MAX_BYTES = 15 * 1024

const blockId = (block: { page: string; name: string | undefined }): string => `${block.page} ${block.name ?? ''}`

/** Test sources under test/, with comments removed (a call in a comment runs nothing). */
function testSources(): { file: string; text: string }[] {
  const sources: { file: string; text: string }[] = []
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(repoRoot, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules' && entry.name !== 'fixtures') walk(path)
      } else if (/\.(ts|mts)$/.test(entry.name) && path !== 'test/docs/doc-blocks.ts') {
        const text = readFileSync(join(repoRoot, path), 'utf8')
          .replace(/\/\*[\s\S]*?\*\//g, '')
          .replace(/^\s*\/\/.*$/gm, '')
        sources.push({ file: path, text })
      }
    }
  }
  walk('test')
  return sources
}

/** Which test files run which blocks: the literal `docBlock(page, name)` and `docProject(page, [files])` calls. */
function findRunners(sources: readonly { file: string; text: string }[]): Map<string, string[]> {
  const runners = new Map<string, string[]>()
  const add = (page: string, name: string, file: string): void => {
    const id = `${page} ${name}`
    runners.set(id, [...(runners.get(id) ?? []), file])
  }
  for (const { file, text } of sources) {
    for (const match of text.matchAll(/\bdocBlock\(\s*'([^']+)'\s*,\s*'([^']+)'\s*[,)]/g))
      add(match[1]!, match[2]!, file)
    for (const match of text.matchAll(/\bdocProject\(\s*'([^']+)'\s*,\s*\[([^\]]*)\]/g)) {
      for (const name of match[2]!.matchAll(/'([^']+)'/g)) add(match[1]!, name[1]!, file)
    }
  }
  return runners
}

/** GitHub's anchors for a page's headings: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>()
  const seen = new Map<string, number>()
  const withoutCode = markdown.replace(/^ *(`{3,}|~{3,})[\s\S]*?^ *\1\s*$/gm, '')
  for (const match of withoutCode.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const text = match[1]!.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-')
    const count = seen.get(base) ?? 0
    seen.set(base, count + 1)
    anchors.add(count === 0 ? base : `${base}-${count}`)
  }
  return anchors
}

/** Relative link targets of a page (inline links, images and reference definitions), code left out. */
function relativeLinks(markdown: string): string[] {
  const prose = markdown.replace(/^ *(`{3,}|~{3,})[\s\S]*?^ *\1\s*$/gm, '').replace(/`[^`\n]*`/g, '')
  const targets = [
    ...[...prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((match) => match[1]!),
    ...[...prose.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/gm)].map((match) => match[1]!),
  ]
  return targets.filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target))
}

describe('docs code blocks', () => {
  const blocks = allDocBlocks().filter((block) => !PAGES_BEING_MOVED.has(block.page))
  const runners = findRunners(testSources())

  it('finds the pages and their blocks', () => {
    expect(docPages()).toContain('README.md')
    expect(allDocBlocks().filter((block) => block.page === 'README.md').length).toBeGreaterThan(0)
  })

  it('names every block, uniquely within its page', () => {
    const unnamed = blocks.filter((block) => block.name === undefined).map((b) => `${b.page}:${b.line}`)
    expect(unnamed, 'blocks without a name (see test/docs/doc-blocks.ts)').toEqual([])
    const ids = blocks.map(blockId)
    expect(ids.filter((id, index) => ids.indexOf(id) !== index)).toEqual([])
  })

  it('gives every TypeScript or JavaScript block a file name (its first line: `// app.ts`)', () => {
    const sources = blocks.filter((block) => /^(ts|tsx|mts|cts|typescript|js|mjs|cjs|javascript)$/.test(block.lang))
    const notFiles = sources.filter((block) => !/\.[mc]?[jt]sx?$/.test(block.name ?? ''))
    expect(notFiles.map((b) => `${b.page}:${b.line} ${b.name ?? ''}`)).toEqual([])
  })

  it('runs every block from some test', () => {
    const unrun = blocks.filter((block) => !runners.has(blockId(block))).map((b) => `${b.page}:${b.line} ${b.name}`)
    expect(unrun, 'blocks no test reads with docBlock() or docProject() (see test/docs/doc-blocks.ts)').toEqual([])
  })

  it('names only blocks that exist in its runners', () => {
    const known = new Set(allDocBlocks().map(blockId))
    const stale = [...runners].filter(([id]) => !known.has(id)).map(([id, files]) => `${id} (${files.join(', ')})`)
    expect(stale).toEqual([])
  })
})

describe('README.md and docs/', () => {
  it.skipIf(PAGES_BEING_MOVED.has('README.md'))(
    `keeps README.md at most ${README_MAX_BYTES} bytes: a front door, the book is docs/`,
    () => {
      expect(statSync(join(repoRoot, 'README.md')).size).toBeLessThanOrEqual(README_MAX_BYTES)
    },
  )

  it('has relative links and anchors that lead somewhere', () => {
    const broken: string[] = []
    for (const page of docPages()) {
      for (const target of relativeLinks(readFileSync(join(repoRoot, page), 'utf8'))) {
        const [path = '', anchor] = target.split('#')
        const file = path === '' ? page : normalize(join(dirname(page), decodeURIComponent(path)))
        if (!existsSync(join(repoRoot, file))) {
          broken.push(`${page}: ${target} (no file ${file})`)
        } else if (anchor !== undefined && anchor !== '' && file.endsWith('.md')) {
          if (!headingAnchors(readFileSync(join(repoRoot, file), 'utf8')).has(anchor))
            broken.push(`${page}: ${target} (no heading #${anchor} in ${file})`)
        }
      }
    }
    expect(broken).toEqual([])
  })
})

describe('the harness itself', () => {
  const page = (text: string): DocBlock[] => parseBlocks('docs/x.md', text)

  it('names blocks by a first-line file comment or the fence, and unindents blocks in lists', () => {
    const blocks = page(
      '```ts\n// app.ts\nexport {}\n```\n\n- item\n\n  ```sh serve-it\n  npx switchyard serve\n  ```\n\n```text\nhi\n```\n',
    )
    expect(blocks.map((block) => [block.lang, block.name, block.content])).toEqual([
      ['ts', 'app.ts', '// app.ts\nexport {}\n'],
      ['sh', 'serve-it', 'npx switchyard serve\n'],
      ['text', undefined, 'hi\n'],
    ])
  })

  it('keeps a longer fence open across a shorter one', () => {
    expect(page('````md outer\n```ts\nx\n```\n````\n').map((block) => block.content)).toEqual(['```ts\nx\n```\n'])
  })

  it('finds runners only in literal calls outside comments', () => {
    const runners = findRunners([
      {
        file: 'a.test.ts',
        text: "docProject(\n  'README.md',\n  ['app.ts', 'b.ts'],\n)\ndocBlock('docs/x.md', 'out')",
      },
    ])
    expect([...runners.keys()].sort()).toEqual(['README.md app.ts', 'README.md b.ts', 'docs/x.md out'])
  })

  it("computes GitHub's heading anchors", () => {
    const anchors = headingAnchors(
      '# The `switchyard` command\n## Names, again\n## Names, again\n```sh\n# not a heading\n```\n',
    )
    expect([...anchors]).toEqual(['the-switchyard-command', 'names-again', 'names-again-1'])
  })

  it('collects relative links, not URLs or code', () => {
    const text = '[a](docs/a.md#x) [b](https://x.y) `[c](c.md)` ![d](img.png "t")\n[e]: ./e.md\n```md\n[f](f.md)\n```\n'
    expect(relativeLinks(text)).toEqual(['docs/a.md#x', 'img.png', './e.md'])
  })

  it("runs pages' modules against src/, the same package the tests import", async () => {
    const project = await docProject('README.md', [])
    await writeFile(project.path('check.ts'), "export { InMemoryChannelLayer } from 'switchyard-channels'\n")
    const { InMemoryChannelLayer: theirs } = await project.import<{ InMemoryChannelLayer: unknown }>('check.ts')
    expect(theirs).toBe(InMemoryChannelLayer)
  })

  it('reads shell blocks as commands', () => {
    expect(shellCommands('# setup\nexport A=1   # why\nnpx x \\\n  --y\n\n')).toEqual(['export A=1', 'npx x --y'])
  })
})
