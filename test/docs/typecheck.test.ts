/**
 * Every TypeScript block of README.md and docs/ compiles as a user's would: each page's files are written as one
 * project (a folder per page) and one `tsc` run checks them all with the compiler options README.md tells users to
 * use (its `tsconfig.json` block), against the declarations the package publishes: inside the repository,
 * `switchyard-channels` resolves to itself through package.json's `exports`, that is to dist/, which `npm test`
 * builds first (run `npm run build` after changing src/ when running this file alone). Checking against src/
 * instead took four times as long. The tests that run the blocks are elsewhere (see ./doc-blocks.ts).
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'

import { expect, it } from 'vitest'

import { allDocBlocks, docBlock, docsOutputDir, isSourceBlock, PAGES_BEING_MOVED, repoRoot } from './doc-blocks.js'

const run = promisify(execFile)
const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc')

/** JSON with comments and trailing commas, as tsconfig.json allows. */
const parseJsonc = (text: string): unknown =>
  JSON.parse(text.replace(/^\s*\/\/.*$|\s\/\/\s.*$/gm, '').replace(/,(\s*[}\]])/g, '$1'))

it('typechecks every TypeScript block, each page as one project', async () => {
  expect(existsSync(join(repoRoot, 'dist', 'src', 'index.d.ts')), 'dist/ is missing: run `npm run build`').toBe(true)
  const dir = join(docsOutputDir, 'typecheck')
  await rm(dir, { recursive: true, force: true })
  const blocks = allDocBlocks().filter((block) => isSourceBlock(block) && !PAGES_BEING_MOVED.has(block.page))
  expect(blocks.length).toBeGreaterThan(0)
  for (const block of blocks) {
    const target = join(dir, block.page.replace(/\.md$/, ''), block.name ?? `line-${block.line}.ts`)
    await mkdir(join(target, '..'), { recursive: true })
    await writeFile(target, block.content)
  }
  const readme = parseJsonc(docBlock('README.md', 'tsconfig.json')) as { compilerOptions: Record<string, unknown> }
  const compilerOptions = { ...readme.compilerOptions, noEmit: true }
  const config = { compilerOptions, include: ['**/*'] }
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
