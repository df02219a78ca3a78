// How `switchyard` starts and fails to start: one line that names the variable, host or port and the fix, exit
// code 1, the stack only with --verbose; and which channel layer serve and worker say they use.
import { spawn } from 'node:child_process'
import { createServer, type Server } from 'node:net'
import { fileURLToPath } from 'node:url'

import { afterEach, describe, expect, inject, it } from 'vitest'

import { freeLoopbackPort } from '../setup/provision-redis.js'

const repoRoot = fileURLToPath(new URL('../../', import.meta.url))
const redisUrl = inject('redisUrl')
const echoApp = 'test/server/fixtures/echo-app.ts'
const memoryLayerApp = 'test/unit/fixtures/memory-dead-letters-app.ts'
const redisLayerApp = 'test/server/fixtures/redis-layer-app.ts'
const workerApp = 'test/unit/fixtures/worker-app.ts'

interface Outcome {
  code: number | null
  stdout: string
  stderr: string
}

/**
 * Runs the CLI until it exits, or until `until` matches its stdout (then SIGTERM, for serve and worker). The
 * environment has no REDIS_URL, PORT or SWITCHYARD_PREFIX of the caller's unless given, and logs are off.
 */
function cli(args: string[], env: NodeJS.ProcessEnv = {}, until?: RegExp): Promise<Outcome> {
  const { REDIS_URL: _url, PORT: _port, SWITCHYARD_PREFIX: _prefix, ...inherited } = process.env
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: repoRoot,
    env: { ...inherited, SWITCHYARD_LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
    if (until?.test(stdout) === true) child.kill('SIGTERM')
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    }),
  )
}

/** The failure is exactly one line on stderr, without a stack frame. */
function expectOneLine(outcome: Outcome, command: string): string {
  expect(outcome.code).toBe(1)
  expect(outcome.stderr).not.toMatch(/^\s+at /m)
  const lines = outcome.stderr.trimEnd().split('\n')
  expect(lines.at(-1)).toMatch(new RegExp(`^switchyard ${command}: `))
  // serve and worker may say which layer they use before a failure that comes later (the port).
  expect(lines.filter((line) => !line.includes('channel layer:'))).toHaveLength(1)
  return lines.at(-1) ?? ''
}

const occupied: Server[] = []

afterEach(async () => {
  await Promise.all(occupied.splice(0).map((server) => new Promise((resolve) => server.close(resolve))))
})

async function occupyPort(): Promise<number> {
  const server = createServer()
  occupied.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

describe('switchyard serve: a port in use', () => {
  it('is one line naming the port and --port, exit 1; --verbose adds the stack', async () => {
    const port = await occupyPort()
    const args = ['serve', '--app', echoApp, '--port', String(port)]
    const [plain, verbose] = await Promise.all([cli(args), cli([...args, '--verbose'])])
    expect(expectOneLine(plain, 'serve')).toBe(
      `switchyard serve: port ${port} on 127.0.0.1 (from --port) is in use by another process; stop it, or pass ` +
        'another --port (0 picks a free one)',
    )
    expect(verbose.code).toBe(1)
    expect(verbose.stderr).toContain(`port ${port} on 127.0.0.1 (from --port) is in use`)
    expect(verbose.stderr).toMatch(/^\s+at /m)
    expect(verbose.stderr).toContain('EADDRINUSE')
  })

  it('names $PORT when the port came from it', async () => {
    const port = await occupyPort()
    const outcome = await cli(['serve', '--app', echoApp], { PORT: String(port) })
    expect(expectOneLine(outcome, 'serve')).toContain(
      `port ${port} on 127.0.0.1 (from $PORT) is in use by another process; stop it, or set PORT to another port`,
    )
  })
})

describe('switchyard: a bad REDIS_URL', () => {
  it('is one line naming REDIS_URL and the form it takes, its password masked, exit 1', async () => {
    const [scheme, unparsable] = await Promise.all([
      cli(['worker', '--app', workerApp, 'email.send'], { REDIS_URL: 'http://:hunter2@localhost:6379' }),
      cli(['inspect'], { REDIS_URL: 'localhost:6379 with a typo' }),
    ])
    expect(expectOneLine(scheme, 'worker')).toBe(
      'switchyard worker: Expected `REDIS_URL (environment)` to be a redis://, rediss:// (TLS) or unix:// URL such as ' +
        'redis://127.0.0.1:6379, got "http://:***@localhost:6379"',
    )
    expect(scheme.stderr).not.toContain('hunter2')
    expect(expectOneLine(unparsable, 'inspect')).toMatch(/^switchyard inspect: Expected `REDIS_URL \(environment\)`/)
  })
})

describe('switchyard: an unreachable Redis', () => {
  it('is one line naming REDIS_URL, the host and the fix, exit 1, for serve, worker and inspect', async () => {
    const port = await freeLoopbackPort()
    const env = { REDIS_URL: `redis://:hunter2@127.0.0.1:${port}` }
    const outcomes = [
      ['serve', await cli(['serve', '--app', echoApp, '--port', '0'], env)],
      ['worker', await cli(['worker', '--app', workerApp, 'email.send'], env)],
      ['inspect', await cli(['inspect'], env)],
    ] as const
    for (const [command, outcome] of outcomes) {
      expect(expectOneLine(outcome, command)).toBe(
        `switchyard ${command}: Redis at redis://127.0.0.1:${port} (REDIS_URL) cannot be reached: connect ` +
          `ECONNREFUSED 127.0.0.1:${port}; start Redis there, or set REDIS_URL to a Redis that runs`,
      )
      expect(outcome.stderr).not.toContain('hunter2')
    }
  })

  it("says when it is the Redis of the app's own `layer` export", async () => {
    const port = await freeLoopbackPort()
    const outcome = await cli(['worker', '--app', redisLayerApp, 'jobs'], {
      APP_REDIS_URL: `redis://127.0.0.1:${port}`,
    })
    expect(expectOneLine(outcome, 'worker')).toMatch(
      new RegExp(
        `^switchyard worker: Redis at redis://127\\.0\\.0\\.1:${port} is unavailable: could not connect in 500 ms; ` +
          "it is the Redis of the --app module's `layer` export: start it, or fix the hosts that layer is built with$",
      ),
    )
  })
})

describe('switchyard serve: which channel layer', () => {
  const served = /at http:\/\/127\.0\.0\.1:\d+\n/

  it('says in memory when REDIS_URL is not set', async () => {
    const outcome = await cli(['serve', '--app', echoApp, '--port', '0'], {}, served)
    expect(outcome.code).toBe(0)
    expect(outcome.stderr).toMatch(
      /^switchyard serve: channel layer: in memory \(REDIS_URL is not set\): channels and groups reach this process only\n/,
    )
  })

  it('names the Redis host and prefix from REDIS_URL', async () => {
    const outcome = await cli(
      ['serve', '--app', echoApp, '--port', '0', '--prefix', 'cli-startup'],
      { REDIS_URL: redisUrl },
      served,
    )
    expect(outcome.code).toBe(0)
    expect(outcome.stderr).toMatch(
      new RegExp(
        `^switchyard serve: channel layer: Redis at ${redisUrl.replace(/\/$/, '').replace(/[.]/g, '\\.')}, ` +
          'prefix "cli-startup" \\(from REDIS_URL\\)\n',
      ),
    )
  })

  it("warns when REDIS_URL is set but the app's in-memory layer is used instead", async () => {
    const outcome = await cli(['serve', '--app', memoryLayerApp, '--port', '0'], { REDIS_URL: redisUrl }, served)
    expect(outcome.code).toBe(0)
    const [first, second] = outcome.stderr.split('\n')
    expect(first).toBe(
      "switchyard serve: channel layer: in memory (the --app module's `layer` export): channels and groups reach " +
        'this process only',
    )
    expect(second).toBe(
      "switchyard serve: warning: REDIS_URL is set, but the --app module's `layer` export, in memory, is used " +
        'instead: this process shares no channels, groups or tasks with any other. Export no `layer` so that ' +
        'REDIS_URL is used, or export a RedisChannelLayer built on it',
    )
  })
})
