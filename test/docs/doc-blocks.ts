/**
 * Every fenced code block in README.md and docs/**\/*.md is run by a test. This module reads the blocks; the
 * harness (`test/docs/blocks.test.ts`) fails when a block has no name or no test that runs it, when a runner
 * names a block that no longer exists, when README.md passes 15 KB, or when a relative link or anchor is broken;
 * `test/docs/typecheck.test.ts` typechecks every TypeScript block.
 *
 * How a doc writer adds a block:
 *
 * 1. Name it, so tests can find it however the page moves around it:
 *    - TypeScript or JavaScript (`ts`, `tsx`, `js`, `mts`, ...): the first line is a comment naming the file, as a
 *      user would save it (`// app.ts`). The files of one page are one project: they import each other as
 *      `./consumers.js`, and `switchyard-channels` and its subpaths resolve to src/ (tsconfig.json's `paths`).
 *      Import from the subpaths as users should (`switchyard-channels/redis`, `/monitoring`, `/testing`, `/client`).
 *      typecheck.test.ts typechecks every page's project with the repo's strict tsconfig; every one must pass.
 *    - Any other block (shell commands, output, Python, JSON, HTML): a name after the language on the fence line,
 *      e.g. ```sh serve-chat or ```text layer-demo-output (GitHub shows only the language). A first-line
 *      `# settings.py` or `// tsconfig.json` file comment names a block too.
 *    Names are unique within a page.
 * 2. Run it from a test (any file under test/), reading it with one of these two calls, every argument a string
 *    literal: the harness finds the runners by reading the test sources for exactly these calls.
 *    - `docProject('docs/topics/consumers.md', ['app.ts', 'rooms.ts'])` writes those files of the page to a fresh
 *      directory under test-output/ and returns `{ dir, path(file), import(file) }`. Import the module (or start it
 *      with `npx switchyard serve --app`, or run it with `node --import tsx`) and assert what it does: drive it
 *      with the communicators of `switchyard-channels/testing`, or serve it on 127.0.0.1 and talk to it.
 *    - `docBlock('docs/topics/redis.md', 'settings.py')` returns one block's text: run it (a shell command with
 *      `sh -c`, Python with python3), check it is exactly the command the code runs (an install command), or
 *      compare it with what the code prints (an output block).
 *    A block that only appears in a test's comment does not count: comments are skipped.
 * 3. Assert behaviour, not just that the block loads: an assertion that cannot fail is a bug.
 */
import { randomBytes } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { mkdir, rename, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { pathToFileURL } from 'node:url'

export const repoRoot = join(import.meta.dirname, '..', '..')

/** Where `docProject` and the typecheck write the pages' files (git ignores test-output/). */
export const docsOutputDir = join(repoRoot, 'test-output', 'docs')

/**
 * Pages whose blocks the harness does not check yet, while their content moves to other pages: none now. README.md
 * was one until it became the front door (issue 15, item 8); its blocks and its size are checked like every page's.
 */
export const PAGES_BEING_MOVED: ReadonlySet<string> = new Set<string>()

/** A fenced code block of a doc page. */
export interface DocBlock {
  /** The page, relative to the repository root with `/` separators: `README.md`, `docs/topics/redis.md`. */
  readonly page: string
  /** 1-based line of the opening fence. */
  readonly line: number
  /** The first word of the fence's info string (`ts`, `sh`, ...), '' for none. */
  readonly lang: string
  /** See the header: a file name from the first line, or the info string's second word; undefined if neither. */
  readonly name: string | undefined
  /** The text between the fences, without the indentation of the fence (blocks inside list items). */
  readonly content: string
}

const SOURCE_LANGS = new Set(['ts', 'tsx', 'mts', 'cts', 'typescript', 'js', 'mjs', 'cjs', 'javascript'])

/** True for blocks that are TypeScript or JavaScript files (typechecked as their page's project). */
export const isSourceBlock = (block: DocBlock): boolean => SOURCE_LANGS.has(block.lang)

/** README.md and every Markdown file under docs/, as repository-relative paths with `/`, sorted. */
export function docPages(): string[] {
  const pages = ['README.md']
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(repoRoot, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`
      if (entry.isDirectory()) walk(path)
      else if (entry.name.endsWith('.md')) pages.push(path)
    }
  }
  try {
    walk('docs')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  return pages.sort()
}

const FILE_COMMENT = /^(?:\/\/|#)\s*([\w.-]+(?:\/[\w.-]+)*\.[A-Za-z]+)\s*$/

/** The fenced blocks of one page, in order. Fences may be indented (inside list items) and use ``` or ~~~. */
export function parseBlocks(page: string, text: string): DocBlock[] {
  const blocks: DocBlock[] = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const open = /^( *)(`{3,}|~{3,})(.*)$/.exec(lines[i]!)
    if (open === null) continue
    const [, indent = '', fence = '', info = ''] = open
    const body: string[] = []
    let j = i + 1
    for (; j < lines.length; j++) {
      const close = /^( *)(`{3,}|~{3,})\s*$/.exec(lines[j]!)
      if (close !== null && close[2]![0] === fence[0] && close[2]!.length >= fence.length) break
      body.push(lines[j]!.startsWith(indent) ? lines[j]!.slice(indent.length) : lines[j]!.trimStart())
    }
    const [lang = '', ...rest] = info.trim().split(/\s+/)
    const content = body.length === 0 ? '' : `${body.join('\n')}\n`
    const fileComment = FILE_COMMENT.exec(body[0] ?? '')
    const name = rest.length > 0 ? rest.join(' ') : fileComment?.[1]
    blocks.push({ page, line: i + 1, lang, name, content })
    i = j
  }
  return blocks
}

const pageText = (page: string): string => readFileSync(join(repoRoot, page), 'utf8')

/** Every block of every doc page. */
export function allDocBlocks(): DocBlock[] {
  return docPages().flatMap((page) => parseBlocks(page, pageText(page)))
}

function findBlock(page: string, name: string): DocBlock {
  const found = parseBlocks(page, pageText(page)).filter((block) => block.name === name)
  if (found.length !== 1) throw new Error(`${page} has ${found.length} code blocks named ${name}, expected 1`)
  return found[0]!
}

/** The text of the block named `name` on `page` (see the header), verbatim: what a reader copies. */
export function docBlock(page: string, name: string): string {
  return findBlock(page, name).content
}

/** The lines of a shell block, with comments and blank lines removed; a trailing `\` joins lines. */
export function shellCommands(block: string): string[] {
  return block
    .replace(/\\\n\s*/g, '')
    .split('\n')
    .map((line) => line.replace(/(^|\s+)#.*$/, '').trim())
    .filter((line) => line !== '')
}

/** The files of a page written by `docProject`. */
export interface DocProject {
  /** The directory holding the files. */
  readonly dir: string
  /** The absolute path of one of them. */
  path(file: string): string
  /** Imports one of them (TypeScript runs as is; `switchyard-channels` resolves to src/). */
  import<T = Record<string, unknown>>(file: string): Promise<T>
}

/**
 * Writes the blocks named `files` of `page` (verbatim; a file name with folders creates them) into a fresh directory
 * under test-output/docs/run/, so each call imports new modules. `edit` may adapt a file's text for the test (a port
 * chosen at run time in place of 8000): keep such edits to values, so what runs is what the page shows.
 */
export async function docProject(
  page: string,
  files: readonly string[],
  edit: (file: string, text: string) => string = (_, text) => text,
): Promise<DocProject> {
  const slug = page.replace(/\.md$/, '').replace(/[^\w]+/g, '-')
  const runDir = join(docsOutputDir, 'run')
  await writeSourceTsconfig(runDir)
  const dir = join(runDir, `${slug}-${randomBytes(4).toString('hex')}`)
  await mkdir(dir)
  for (const file of files) {
    const target = join(dir, file)
    await mkdir(join(target, '..'), { recursive: true })
    await writeFile(target, edit(file, docBlock(page, file)))
  }
  return {
    dir,
    path: (file) => join(dir, file),
    import: async <T>(file: string) => (await import(pathToFileURL(join(dir, file)).href)) as T,
  }
}

/**
 * Each entry point of package.json's `exports` mapped to its source, as tsconfig.json `paths` for a config in `dir`:
 * the doc blocks import the package by name, and must get src/ as the tests do (not dist/, which Node's
 * self-reference of a package by its name would give).
 */
export function sourcePaths(dir: string): Record<string, string[]> {
  const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
    name: string
    exports: Record<string, string | { types?: string }>
  }
  const paths: Record<string, string[]> = {}
  for (const [entry, target] of Object.entries(manifest.exports)) {
    if (typeof target === 'string' || target.types === undefined) continue
    const source = target.types.replace(/^\.\/dist\//, '').replace(/\.d\.ts$/, '.ts')
    paths[join(manifest.name, entry)] = [relative(dir, join(repoRoot, source))]
  }
  return paths
}

/** A tsconfig.json in `dir` whose `paths` send the package's imports to src/ (vitest follows it, as tsc does). */
async function writeSourceTsconfig(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true })
  const config = {
    extends: relative(dir, join(repoRoot, 'tsconfig.json')),
    compilerOptions: { paths: sourcePaths(dir) },
  }
  const text = JSON.stringify({ ...config, include: ['**/*'] }, null, 2)
  // Written whole under a temporary name, then renamed: test files in other processes may be reading it.
  const temporary = join(dir, `tsconfig.${randomBytes(4).toString('hex')}.tmp`)
  await writeFile(temporary, text)
  await rename(temporary, join(dir, 'tsconfig.json'))
}

/** `path` relative to the repository root, with `/` separators. */
export const repoPath = (path: string): string => relative(repoRoot, path).split('\\').join('/')
