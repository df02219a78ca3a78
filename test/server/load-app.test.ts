import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { describe, expect, it } from 'vitest'

import { defaultLayerFromEnvironment, loadApp } from '../../src/cli/load-app.js'
import { AppLoadError } from '../../src/errors.js'
import { InMemoryChannelLayer } from '../../src/layers/memory/memory-layer.js'

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url))

describe('loadApp', () => {
  it('loads a TypeScript module exporting the application as default, resolved against cwd', async () => {
    const loaded = await loadApp('echo-app.ts', fixtures)
    expect(typeof loaded.application).toBe('function')
    expect(loaded.layer).toBeUndefined()
    expect(loaded.path).toBe(`${fixtures}echo-app.ts`)
  })

  it('loads a JavaScript module exporting `application` and `layer`', async () => {
    const loaded = await loadApp(`${fixtures}named-app.js`)
    expect(typeof loaded.application).toBe('function')
    expect(typeof loaded.layer?.groupAdd).toBe('function')
  })

  it.each([
    ['missing.ts', /there is no file at .*missing\.ts/],
    [
      'no-app.ts',
      /exports no application: export it as `default` or as `application` \(found exports: somethingElse\)/,
    ],
    ['class-app.ts', /exports the consumer class ChatConsumer itself; .*ChatConsumer\.asApp\(\)/],
    ['throws-on-import.ts', /importing it threw Error: top-level failure/],
  ])('refuses %s with AppLoadError', async (file, message) => {
    const error = await loadApp(file, fixtures).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(AppLoadError)
    expect((error as Error).message).toMatch(message)
  })

  it.each([
    ['commonjs', 'app.ts'],
    ['module', 'app.ts'],
    ['commonjs', 'app.mts'],
  ])('loads a TypeScript app in a %s package (%s), importing another .ts file', async (type, file) => {
    const dir = await mkdtemp(join(tmpdir(), 'swy-load-'))
    try {
      await writeFile(join(dir, 'package.json'), JSON.stringify({ type }))
      await writeFile(join(dir, 'handler.ts'), 'export const handled: string[] = []\n')
      await writeFile(
        join(dir, file),
        "import { handled } from './handler'\n" +
          'export default async function application(scope: { type: string }): Promise<void> {\n' +
          '  handled.push(scope.type)\n}\n',
      )
      const loaded = await loadApp(file, dir)
      expect(typeof loaded.application).toBe('function')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('falls back to the in-memory layer', () => {
    expect(defaultLayerFromEnvironment({})).toBeInstanceOf(InMemoryChannelLayer)
  })
})
