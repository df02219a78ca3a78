import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { moduleFormatHint, moduleFormatOf } from '../../src/cli/module-format.js'

let root = ''

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'swy-format-'))
  for (const [dir, manifest] of [
    ['cjs', { name: 'a' }],
    ['typed-cjs', { type: 'commonjs' }],
    ['esm', { type: 'module' }],
  ] as const) {
    await mkdir(join(root, dir, 'src'), { recursive: true })
    await writeFile(join(root, dir, 'package.json'), JSON.stringify(manifest))
  }
})

afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

describe('moduleFormatOf', () => {
  it('follows the nearest package.json for .ts and .js, as Node does', () => {
    expect(moduleFormatOf(join(root, 'esm', 'src', 'app.ts'))).toEqual({
      kind: 'module',
      reason: `${join(root, 'esm', 'package.json')} says "type": "module"`,
      packageJson: join(root, 'esm', 'package.json'),
    })
    expect(moduleFormatOf(join(root, 'cjs', 'src', 'app.js'))).toMatchObject({
      kind: 'commonjs',
      reason: `${join(root, 'cjs', 'package.json')} has no "type"`,
    })
    expect(moduleFormatOf(join(root, 'typed-cjs', 'app.ts')).kind).toBe('commonjs')
  })

  it('lets the extension win over the package.json', () => {
    expect(moduleFormatOf(join(root, 'cjs', 'app.mts'))).toMatchObject({
      kind: 'module',
      reason: 'its extension is .mts',
    })
    expect(moduleFormatOf(join(root, 'esm', 'app.cjs'))).toMatchObject({
      kind: 'commonjs',
      reason: 'its extension is .cjs',
    })
  })
})

describe('moduleFormatHint', () => {
  const tlaError = Object.assign(new Error('Top-level await is currently not supported with the "cjs" output format'), {
    name: 'TransformError',
  })

  it('tells a CommonJS app with top-level await to set "type": "module" or rename it to .mts', () => {
    const packageJson = join(root, 'cjs', 'package.json')
    expect(moduleFormatHint(join(root, 'cjs', 'src', 'app.ts'), tlaError)).toBe(
      `app.ts is loaded as CommonJS (${packageJson} has no "type"), and CommonJS cannot use top-level await or load a ` +
        `module that does: set "type": "module" in ${packageJson}, or rename the file to app.mts`,
    )
    const requireAsync = Object.assign(new Error('require() cannot be used on an ESM graph with top-level await'), {
      code: 'ERR_REQUIRE_ASYNC_MODULE',
    })
    expect(moduleFormatHint(join(root, 'cjs', 'app.cts'), requireAsync)).toMatch(/rename the file to app\.mts$/)
  })

  it('tells an ES module app that uses require to use import, or rename it to .cts', () => {
    const error = new ReferenceError('require is not defined in ES module scope, you can use import instead')
    expect(moduleFormatHint(join(root, 'esm', 'app.ts'), error)).toMatch(
      /^app\.ts is loaded as an ES module \(.*esm\/package\.json says "type": "module"\), .*rename the file to app\.cts$/,
    )
  })

  it('stays out of failures that have nothing to do with the format', () => {
    expect(moduleFormatHint(join(root, 'cjs', 'app.ts'), new Error('top-level failure'))).toBeUndefined()
    expect(moduleFormatHint(join(root, 'esm', 'app.ts'), tlaError)).toBeUndefined()
  })
})
