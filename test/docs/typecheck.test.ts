/**
 * Every TypeScript block of README.md and docs/ compiles: each page's files are written as one project (a folder
 * per page) and one `tsc` run checks them all with the repository's strict tsconfig, `switchyard-channels` and its
 * subpaths resolving to src/. The tests that run the blocks are elsewhere (see ./doc-blocks.ts).
 */
import { execFile } from 'node:child_process'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'

import { expect, it } from 'vitest'

import { allDocBlocks, docsOutputDir, isSourceBlock, PAGES_BEING_MOVED, repoRoot } from './doc-blocks.js'

const run = promisify(execFile)
const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc')

it('typechecks every TypeScript block, each page as one project', async () => {
  const dir = join(docsOutputDir, 'typecheck')
  await rm(dir, { recursive: true, force: true })
  const blocks = allDocBlocks().filter((block) => isSourceBlock(block) && !PAGES_BEING_MOVED.has(block.page))
  if (blocks.length === 0 && PAGES_BEING_MOVED.size > 0) return
  expect(blocks.length).toBeGreaterThan(0)
  for (const block of blocks) {
    const target = join(dir, block.page.replace(/\.md$/, ''), block.name ?? `line-${block.line}.ts`)
    await mkdir(join(target, '..'), { recursive: true })
    await writeFile(target, block.content)
  }
  // `paths` in the extended tsconfig.json stay relative to it, so imports of the package reach src/.
  const config = { extends: '../../../tsconfig.json', compilerOptions: { noEmit: true }, include: ['**/*'] }
  await writeFile(join(dir, 'tsconfig.json'), JSON.stringify(config, null, 2))
  let result = { code: 0, stdout: '' }
  try {
    result.stdout = (await run(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], { cwd: repoRoot })).stdout
  } catch (error) {
    const failed = error as { code?: number; stdout?: string }
    result = { code: failed.code ?? 1, stdout: failed.stdout ?? String(error) }
  }
  // Errors name the generated file (test-output/docs/typecheck/<page>/<file>): the page and its block.
  expect(result.stdout).toBe('')
  expect(result.code).toBe(0)
}, 90_000)
