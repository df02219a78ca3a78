/**
 * What a new user does, in the two kinds of project npm makes: `npm init -y` (CommonJS) and the same with
 * `"type": "module"`. Each installs the packed tarball (at our lockfile's dependency versions), copies the docs'
 * files verbatim, and runs their commands with the real `npx`: the README's five-minute chat served by
 * `npx switchyard serve`, the worked example of docs/topics/background-tasks.md (its worker on Redis with a retry and
 * a dead letter), `require()` of the package, and stack traces that name files which exist.
 */
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import WebSocket from 'ws'

import { startPrivateRedis, type RunningRedis } from '../setup/provision-redis.js'
import { spawnProcess, terminateLauncher, type Spawned } from '../support/spawned.js'
import {
  envWithoutNpmConfig,
  makeConsumerProject,
  mustRun,
  packTarball,
  pkg,
  repoRoot,
  run,
  type ModuleKind,
} from './consumer-project.js'
import { docBlock, shellCommands } from '../docs/doc-blocks.js'

const tscBin = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc')
const KINDS: readonly ModuleKind[] = ['commonjs', 'module']

// Uses only the package's entry points, with no top-level await, so it runs as CommonJS and as an ES module.
const stackCheck = (load: string): string => `${load}
const layer = new InMemoryChannelLayer()
layer.send('not a channel!', { type: 'a.b' }).then(
  () => console.log(JSON.stringify({ code: 'none' })),
  (error) => console.log(JSON.stringify({ code: error.code, stack: error.stack })),
)
`

const requireCheck = `const switchyard = require('switchyard-channels')
const testing = require('switchyard-channels/testing')
const client = require('switchyard-channels/client')
const { RedisChannelLayer } = require('switchyard-channels/redis')
const { createMetrics } = require('switchyard-channels/monitoring')
const layer = new switchyard.InMemoryChannelLayer()
layer
  .send('jobs', { type: 'job.run', id: 1 })
  .then(() => testing.receiveFromLayer(layer, 'jobs', { timeoutMs: 1000 }))
  .then((received) => {
    console.log(JSON.stringify({
      received,
      connect: typeof client.connect,
      subpaths: RedisChannelLayer === switchyard.RedisChannelLayer && typeof createMetrics,
      exports: Object.keys(switchyard).length,
    }))
    return layer.close()
  })
`

/** An app each kind of project cannot load as written, and the start of what the command says to change. */
const WRONG_FORMAT: Record<ModuleKind, readonly [string, string, (packageJson: string) => string]> = {
  commonjs: [
    'app-tla.ts',
    "import { ProtocolTypeRouter } from 'switchyard-channels'\n\nawait Promise.resolve()\nexport const application = ProtocolTypeRouter({})\n",
    (packageJson) =>
      `app-tla.ts is loaded as CommonJS (${packageJson} says "type": "commonjs"), and CommonJS cannot use ` +
      `top-level await or load a module that does: set "type": "module" in ${packageJson}, or rename the file to app-tla.mts`,
  ],
  module: [
    'app-require.ts',
    "const { ProtocolTypeRouter } = require('switchyard-channels')\n\nmodule.exports = { application: ProtocolTypeRouter({}) }\n",
    (packageJson) =>
      `app-require.ts is loaded as an ES module (${packageJson} says "type": "module"), where require, ` +
      'module.exports and __dirname do not exist: use import/export (and import.meta.dirname), or rename the file to app-require.cts',
  ],
}

let workDir = ''
let tarball = ''
let redis: RunningRedis | undefined

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'switchyard-projects-'))
  tarball = await packTarball(join(workDir, 'pack'))
  redis = await startPrivateRedis(inject('redisServerBin'))
}, 180_000)

afterAll(async () => {
  await redis?.stop()
  if (workDir) await rm(workDir, { recursive: true, force: true })
})

/** Every file a stack trace names (absolute paths and file: URLs), internals of Node left out. */
function stackFiles(stack: string): string[] {
  const files: string[] = []
  for (const match of stack.matchAll(/(?:\(|at )((?:file:\/\/)?\/[^():\s]+):\d+:\d+\)?$/gm)) {
    const location = match[1]!
    files.push(location.startsWith('file://') ? fileURLToPath(location) : location)
  }
  return files
}

/** `npx <args>` in the project, as a user types it; never inherits the npm config of the `npm test` around us. */
function npx(dir: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Spawned {
  return spawnProcess('npx', args, { cwd: dir, env: envWithoutNpmConfig({ SWITCHYARD_LOG_LEVEL: 'info', ...env }) })
}

function openSocket(url: string, origin: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { origin })
    socket.once('open', () => {
      resolve(socket)
    })
    socket.once('error', reject)
  })
}

function nextJson(socket: WebSocket): Promise<unknown> {
  return new Promise((resolve) => {
    socket.once('message', (data: Buffer) => {
      resolve(JSON.parse(data.toString()))
    })
  })
}

describe.each(KINDS)('a %s project that installs the tarball', (kind) => {
  const dir = (): string => join(workDir, kind)
  const redisUrl = (): string => `${redis!.url}/${KINDS.indexOf(kind) + 1}`

  beforeAll(async () => {
    await makeConsumerProject(dir(), tarball, kind)
    await writeFile(join(dir(), 'app.ts'), docBlock('README.md', 'app.ts'))
    await writeFile(join(dir(), 'tsconfig.json'), docBlock('README.md', 'tsconfig.json'))
    await writeFile(join(dir(), 'tasks.ts'), docBlock('docs/topics/background-tasks.md', 'tasks.ts'))
  }, 240_000)

  it("typechecks the README's app.ts and the background-tasks page's tasks.ts with the README's tsconfig.json", async () => {
    const result = await run(process.execPath, [tscBin, '-p', 'tsconfig.json'], dir())
    expect(result.stdout).toBe('')
    expect(result.code).toBe(0)
  }, 60_000)

  it("typechecks them with `tsc --init`'s tsconfig.json where the README says it works (an ES module project)", async () => {
    // `tsc --init` writes tsconfig.json where it runs; keep the README's and make the other beside it.
    const initDir = join(dir(), 'tsc-init')
    await mkdir(initDir)
    await mustRun(process.execPath, [tscBin, '--init'], initDir)
    const generated = await readFile(join(initDir, 'tsconfig.json'), 'utf8')
    expect(generated).toContain('"types": [],')
    expect(generated).toContain('"verbatimModuleSyntax": true')
    // Its own comment says to list "node" for Node.js; the file list keeps the check to the README's files.
    const adjusted = generated
      .replace('"types": [],', '"types": ["node"],')
      .replace('"compilerOptions": {', '"files": ["app.ts", "tasks.ts"],\n  "compilerOptions": {')
    await writeFile(join(dir(), 'tsconfig.init.json'), adjusted)
    const result = await run(process.execPath, [tscBin, '-p', 'tsconfig.init.json', '--noEmit'], dir())
    if (kind === 'module') {
      expect(result.stdout).toBe('')
      expect(result.code).toBe(0)
    } else {
      expect(result.stdout).toMatch(
        /app\.ts\(\d+,\d+\): error TS1295: ECMAScript imports and exports cannot be written in a CommonJS file under 'verbatimModuleSyntax'/,
      )
    }
  }, 60_000)

  it("serves the README's chat with `npx switchyard serve --app app.ts`: two clients chat, SIGTERM to npx stops it", async () => {
    const [command] = shellCommands(docBlock('README.md', 'serve'))
    expect(command).toBe('npx switchyard serve --app app.ts')
    const serve = npx(dir(), command!.split(' ').slice(1), { PORT: '0' })
    try {
      const [, url, port] = await serve.waitForOutput(/switchyard serving app\.ts at (http:\/\/127\.0\.0\.1:(\d+))/)
      const serverPid = Number((await serve.waitForOutput(/"pid":(\d+)/))[1])
      const origin = url!
      const path = `ws://127.0.0.1:${port!}/ws/chat/lobby/`
      const [ann, bob] = await Promise.all([openSocket(path, origin), openSocket(path, origin)])
      const toAnn = nextJson(ann)
      const toBob = nextJson(bob)
      ann.send(JSON.stringify({ text: 'hello from ann' }))
      expect(await toAnn).toEqual({ type: 'chat.message', text: 'hello from ann' })
      expect(await toBob).toEqual({ type: 'chat.message', text: 'hello from ann' })

      const bobClosed = new Promise<number>((resolve) => bob.once('close', resolve))
      await terminateLauncher(serve, serverPid)
      expect(await bobClosed).toBe(1001) // a graceful shutdown, not a killed process
      await expect(fetch(`${origin}/`)).rejects.toThrow()
      ann.terminate()
    } finally {
      serve.kill()
    }
  }, 60_000)

  it("runs the background-tasks page's worked example on Redis: a task retried, a dead letter listed, SIGTERM to npx stops it", async () => {
    const commands = shellCommands(docBlock('docs/topics/background-tasks.md', 'worked-example'))
    expect(commands[0]).toMatch(/^export REDIS_URL=/)
    const env = { REDIS_URL: redisUrl() }
    const [workerCommand, ...rest] = commands.slice(1)
    expect(workerCommand).toBe('npx switchyard worker --app tasks.ts emails')
    const worker = npx(dir(), ['switchyard', 'worker', '--app', 'tasks.ts', 'emails'], env)
    try {
      await worker.waitForOutput(/switchyard worker serving channel emails/)
      const workerPid = Number((await worker.waitForOutput(/"pid":(\d+)/))[1])
      const shell = async (command: string): Promise<string> => {
        const result = await mustRun('sh', ['-c', command], dir(), { env })
        return result.stdout
      }
      const [send42, send7, list, replay, purge] = rest
      expect(await shell(send42!)).toBe('switchyard send: email.send sent to emails\n')
      await shell(send7!)

      await worker.waitForOutput(/"msg":"email sent"/)
      const lines = worker
        .output()
        .stderr.split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { msg: string; attempt?: number; willRetry?: boolean })
      const sent = lines.find((line) => line.msg === 'email sent')
      expect(sent?.attempt).toBe(2)
      expect(lines.filter((line) => line.msg === 'task attempt failed; retrying')).toHaveLength(1)
      await worker.waitForOutput(/"msg":"task failed; dead-lettered"/)
      expect(worker.output().stderr).toMatch(/dead after attempt 1: NonRetryableError: no user 7/)

      expect(list).toBe('npx switchyard dead-letters list emails')
      const listed = await shell(list!)
      expect(listed).toMatch(/no user 7/)
      expect(listed).not.toMatch(/ada@example\.com/)
      expect(await shell(replay!)).toBe('Replayed 1 dead letter on emails\n')
      await worker.waitForOutput(/dead after attempt 1: NonRetryableError: no user 7[\s\S]*dead after attempt 1/)
      expect(purge).toBe('npx switchyard dead-letters purge emails --older-than 7d')
      await shell(purge!)

      await terminateLauncher(worker, workerPid)
      expect(worker.output().stderr).toMatch(/switchyard worker: SIGTERM, finishing running tasks/)
    } finally {
      worker.kill()
    }
  }, 90_000)

  it('loads the package with require(), every entry point, without a warning', async () => {
    await writeFile(join(dir(), 'require-check.cjs'), requireCheck)
    const result = await run(process.execPath, ['require-check.cjs'], dir(), { timeoutMs: 30_000 })
    expect(result.stderr).toBe('')
    expect(JSON.parse(result.stdout)).toMatchObject({
      received: { type: 'job.run', id: 1 },
      connect: 'function',
      subpaths: 'function',
    })
  }, 60_000)

  it.each([
    ['node', 'stack-check.js', []],
    ['node with tsx, which turns source maps on', 'stack-check.ts', ['--import', 'tsx']],
  ] as const)(
    'names only files that exist in the stack of an error thrown by the package (%s)',
    async (_, file, flags) => {
      const load = file.endsWith('.ts')
        ? "import { InMemoryChannelLayer } from 'switchyard-channels'"
        : kind === 'module'
          ? "import { InMemoryChannelLayer } from 'switchyard-channels'"
          : "const { InMemoryChannelLayer } = require('switchyard-channels')"
      await writeFile(join(dir(), file), stackCheck(load))
      const result = await run(process.execPath, [...flags, file], dir(), { timeoutMs: 30_000 })
      expect(result.stderr).toBe('')
      const { code, stack } = JSON.parse(result.stdout) as { code: string; stack: string }
      expect(code).toBe('SWY_INVALID_CHANNEL_NAME')
      const files = stackFiles(stack)
      expect(files.some((path) => path.includes(join('node_modules', pkg.name, 'dist')))).toBe(true)
      expect(files.filter((path) => !existsSync(path))).toEqual([])
    },
    60_000,
  )

  it('says what to change when the app is written for the other module format', async () => {
    const [file, source, hint] = WRONG_FORMAT[kind]
    await writeFile(join(dir(), file), source)
    const serve = npx(dir(), ['switchyard', 'serve', '--app', file])
    expect((await serve.exited).code).toBe(1)
    expect(serve.output().stderr).toContain(hint(join(dir(), 'package.json')))
  }, 60_000)
})
