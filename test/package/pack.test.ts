import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { makeConsumerProject, packTarball, pkg, repoRoot, run, type RunResult } from './consumer-project.js'

const tscBin = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc')

// The repo's @types/node stands in for the consumer's own: installing it there would add a registry fetch.
// `skipLibCheck` is what `tsc --init` writes and nearly every project has; `checkLibs` checks every .d.ts too.
function typecheck(
  consumerDir: string,
  file: string,
  { extraArgs = [], checkLibs = false }: { extraArgs?: readonly string[]; checkLibs?: boolean } = {},
): Promise<RunResult> {
  return run(
    process.execPath,
    [
      tscBin,
      '--noEmit',
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--strict',
      '--target',
      'es2022',
      '--types',
      'node',
      '--typeRoots',
      join(repoRoot, 'node_modules', '@types'),
      '--skipLibCheck',
      String(!checkLibs),
      ...extraArgs,
      file,
    ],
    consumerDir,
  )
}

const consumerTs = `import { InMemoryChannelLayer, type Message } from 'switchyard-channels'
import { connect } from 'switchyard-channels/client'
import { createMetrics, type SwitchyardMetrics } from 'switchyard-channels/monitoring'
import { RedisChannelLayer, type RedisLayerOptions } from 'switchyard-channels/redis'
import { receiveFromLayer } from 'switchyard-channels/testing'

const redisOptions: RedisLayerOptions = { hosts: ['redis://127.0.0.1:6379/0'] }
export const makeRedis = (): RedisChannelLayer => new RedisChannelLayer(redisOptions)
export const makeMetrics = (): SwitchyardMetrics => createMetrics({ defaultMetrics: false })

const layer: InMemoryChannelLayer = new InMemoryChannelLayer({ capacity: 5 })
await layer.send('jobs', { type: 'job.run', id: 1 })
const msg: Message = await receiveFromLayer(layer, 'jobs', { timeoutMs: 1000 })
const kind: string = msg.type
console.log(kind)
await layer.close()

const conn = connect<{ type: 'chat.message'; text: string }, { type: 'chat.send'; text: string }>('/ws/chat/lobby/')
conn.on('chat.message', (event) => console.log(event.text.toUpperCase()))
conn.send({ type: 'chat.send', text: 'hi' })
`

const badConsumerTs = `import { InMemoryChannelLayer } from 'switchyard-channels'

const layer = new InMemoryChannelLayer({ capacity: 5 })
await layer.send('jobs', { id: 1 })
`

const consumerMjs = `import { InMemoryChannelLayer } from 'switchyard-channels'
import { receiveFromLayer } from 'switchyard-channels/testing'

const layer = new InMemoryChannelLayer({ capacity: 5 })
await layer.send('jobs', { type: 'job.run', id: 1, tags: ['a', 'b'] })
const received = await receiveFromLayer(layer, 'jobs', { timeoutMs: 1000 })
await layer.close()
console.log(JSON.stringify({ received, resolved: import.meta.resolve('switchyard-channels') }))
`

// The showcase's way of serving the client to pages without a bundler; the bundle was made when the package was built.
const bundleClientMjs = `import { clientModuleSource } from 'switchyard-channels'
const source = await clientModuleSource()
const client = await import('data:text/javascript,' + encodeURIComponent(source))
console.log(JSON.stringify({ exports: Object.keys(client), hasImports: /\\bimport\\s*[\\s{*"'(]/.test(source) }))
`

// What importing each entry costs: the packages it loads (CommonJS ones show in require.cache) and the Lua files it reads.
const lazyLoadMjs = `import fs from 'node:fs'
import { createRequire, syncBuiltinESMExports } from 'node:module'

const read = []
const readFileSync = fs.readFileSync
fs.readFileSync = function (path, ...rest) {
  read.push(String(path))
  return readFileSync.call(this, path, ...rest)
}
syncBuiltinESMExports()
const require = createRequire(import.meta.url)
const state = () => ({
  packages: [...new Set(Object.keys(require.cache).map((p) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(p)?.[1]))]
    .filter((name) => ['ioredis', 'msgpackr', 'prom-client'].includes(name))
    .sort(),
  luaFiles: read.filter((path) => path.endsWith('.lua')).length,
})
const root = await import('switchyard-channels')
const afterRoot = state()
const redis = await import('switchyard-channels/redis')
const monitoring = await import('switchyard-channels/monitoring')
const afterSubpaths = state()
const layer = new redis.RedisChannelLayer({ hosts: ['redis://127.0.0.1:1/0'], serializer: 'msgpack' })
await layer.close()
monitoring.createMetrics({ defaultMetrics: false }).close()
console.log(JSON.stringify({
  afterRoot,
  afterSubpaths,
  afterUse: state(),
  sameClasses: root.RedisChannelLayer === redis.RedisChannelLayer && root.createMetrics === monitoring.createMetrics,
}))
`

describe('the packed tarball, installed into a separate project', () => {
  let workDir = ''
  let consumerDir = ''

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'switchyard-pack-'))
    consumerDir = join(workDir, 'consumer')
    // prepack rebuilds dist/, so this also proves a clean build of the published entry points.
    const tarball = await packTarball(join(workDir, 'pack'))
    await makeConsumerProject(consumerDir, tarball, 'module')
    await writeFile(join(consumerDir, 'consumer.ts'), consumerTs)
    await writeFile(join(consumerDir, 'bad-consumer.ts'), badConsumerTs)
    await writeFile(join(consumerDir, 'consumer.mjs'), consumerMjs)
    await writeFile(join(consumerDir, 'bundle-client.mjs'), bundleClientMjs)
    await writeFile(join(consumerDir, 'lazy-load.mjs'), lazyLoadMjs)
  }, 180_000)

  afterAll(async () => {
    if (workDir) await rm(workDir, { recursive: true, force: true })
  })

  it('ships compiled entry points and declarations, not the test suite', () => {
    const installed = join(consumerDir, 'node_modules', pkg.name)
    for (const file of [
      'dist/src/index.js',
      'dist/src/index.d.ts',
      'dist/src/testing/index.d.ts',
      'dist/src/layers/redis/index.js',
      'dist/src/layers/redis/index.d.ts',
      'dist/src/monitoring/index.js',
      'dist/src/monitoring/index.d.ts',
      'dist/src/client/index.js',
      'dist/src/client/index.d.ts',
      'dist/src/cli/main.js',
      'dist/src/client/switchyard-client.bundle.js',
    ]) {
      expect(existsSync(join(installed, file)), file).toBe(true)
    }
    expect(existsSync(join(installed, 'dist', 'test'))).toBe(false)
    expect(existsSync(join(installed, 'src'))).toBe(false)
    // Maps would point stack traces at TypeScript sources the package does not ship.
    const files = readdirSync(installed, { recursive: true, encoding: 'utf8' })
    expect(files.filter((file) => file.endsWith('.map'))).toEqual([])
  })

  it('loads neither ioredis, msgpackr nor prom-client and reads no Lua file on import; they load when used', async () => {
    const result = await run(process.execPath, ['lazy-load.mjs'], consumerDir, { timeoutMs: 30_000 })
    expect(JSON.parse(result.stdout)).toEqual({
      afterRoot: { packages: [], luaFiles: 0 },
      afterSubpaths: { packages: [], luaFiles: 0 },
      // The Lua files wait for the first command; default-projects.test.ts runs the background-task guide's worked
      // example on Redis from an installed package.
      afterUse: { packages: ['ioredis', 'msgpackr', 'prom-client'], luaFiles: 0 },
      sameClasses: true,
    })
  }, 60_000)

  it('needs no build tool at run time: no dependency on one, no import of one', () => {
    const installed = join(consumerDir, 'node_modules', pkg.name)
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>
    }
    expect(Object.keys(manifest.dependencies)).not.toContain('esbuild')
    expect(Object.keys(manifest.dependencies)).not.toContain('typescript')
    const scripts = readdirSync(installed, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.js'))
    expect(scripts.length).toBeGreaterThan(100)
    const importers = scripts.filter((file) =>
      /(from|import\()\s*['"](esbuild|typescript)['"]/.test(readFileSync(join(installed, file), 'utf8')),
    )
    expect(importers).toEqual([])
  })

  it('installs the runtime dependencies at the versions of the repo lockfile', () => {
    const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version?: string }>
    }
    const names = Object.keys(pkg.dependencies ?? {})
    expect(names.length).toBeGreaterThan(0)
    for (const name of names) {
      const installed = JSON.parse(readFileSync(join(consumerDir, 'node_modules', name, 'package.json'), 'utf8')) as {
        version: string
      }
      expect(installed.version, name).toBe(lock.packages[`node_modules/${name}`]?.version)
    }
  })

  it('typechecks a strict TypeScript consumer against the shipped declarations', async () => {
    const result = await typecheck(consumerDir, 'consumer.ts', { extraArgs: ['--listFiles'] })
    expect(result.stdout).not.toContain('error TS')
    expect(result.code).toBe(0)
    // The types must come from the installed tarball, never from the repo next door.
    const shipped = join(consumerDir, 'node_modules', pkg.name, 'dist', 'src')
    const listed = result.stdout.split('\n')
    expect(listed).toContain(join(shipped, 'index.d.ts'))
    expect(listed).toContain(join(shipped, 'testing', 'index.d.ts'))
    expect(listed).toContain(join(shipped, 'client', 'index.d.ts'))
    expect(listed.filter((file) => file.startsWith(join(repoRoot, 'src')))).toEqual([])
  }, 60_000)

  it('ships declarations that typecheck with skipLibCheck off', async () => {
    const result = await typecheck(consumerDir, 'consumer.ts', { checkLibs: true })
    // Errors in other packages' declarations are theirs to fix; ours must have none.
    const ours = result.stdout.split('\n').filter((line) => line.includes(`node_modules/${pkg.name}/`))
    expect(ours).toEqual([])
  }, 60_000)

  it('fails the typecheck for a message without a type, so the declarations really constrain callers', async () => {
    const result = await typecheck(consumerDir, 'bad-consumer.ts')
    expect(result.code).not.toBe(0)
    expect(result.stdout).toContain('bad-consumer.ts(4,')
    expect(result.stdout).toMatch(/Property 'type' is missing/)
  }, 60_000)

  it('runs a send/receive round trip from plain JavaScript', async () => {
    const result = await run(process.execPath, ['consumer.mjs'], consumerDir, { timeoutMs: 30_000 })
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const output = JSON.parse(result.stdout) as { received: unknown; resolved: string }
    expect(output.received).toEqual({ type: 'job.run', id: 1, tags: ['a', 'b'] })
    expect(fileURLToPath(output.resolved)).toBe(join(consumerDir, 'node_modules', pkg.name, 'dist', 'src', 'index.js'))
  }, 60_000)

  it('bundles the browser client from the compiled package', async () => {
    const result = await run(process.execPath, ['bundle-client.mjs'], consumerDir, { timeoutMs: 30_000 })
    expect(result.stderr).toBe('')
    const output = JSON.parse(result.stdout) as { exports: string[]; hasImports: boolean }
    expect(output.exports).toContain('connect')
    expect(output.hasImports).toBe(false)
  }, 60_000)

  it('installs a working switchyard bin', async () => {
    const result = await run(join(consumerDir, 'node_modules', '.bin', 'switchyard'), ['--version'], consumerDir, {
      timeoutMs: 30_000,
    })
    expect(result).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' })
  }, 60_000)
})
