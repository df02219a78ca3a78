/**
 * The `npx switchyard ...` commands the examples' READMEs show, run verbatim in this checkout with the real npx:
 * after `npm install` (whose `prepare` builds dist/), the package's own command works without any other step.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

import { describe, expect, inject, it } from 'vitest'

import { envWithoutNpmConfig, mustRun, repoRoot } from '../package/consumer-project.js'
import { spawnProcess, terminateLauncher, type Spawned } from '../support/spawned.js'

/** Each `npx switchyard ...` command in an example's README, joined across line breaks and without comments. */
function exampleCommands(example: string): string[] {
  const text = readFileSync(join(repoRoot, 'examples', example, 'README.md'), 'utf8').replace(/\n(?=\S)/g, ' ')
  return [...text.matchAll(/npx switchyard [^`#\n]*/g)].map((match) => match[0].trim())
}

/** Runs a README command line with the real npx (no shell between, so npx gets the test's signals itself). */
function npx(command: string, extra: NodeJS.ProcessEnv = {}): Spawned {
  const [program, ...args] = command.split(/\s+/)
  expect(program).toBe('npx')
  return spawnProcess('npx', args, {
    cwd: repoRoot,
    env: envWithoutNpmConfig({ SWITCHYARD_LOG_LEVEL: 'info', ...extra }),
  })
}

async function commandPid(launcher: Spawned): Promise<number> {
  return Number((await launcher.waitForOutput(/"pid":(\d+)/))[1])
}

describe('npx switchyard in the checkout, as the examples show it', () => {
  it('serves the chat example with `npx switchyard serve --app examples/chat/app.ts`', async () => {
    expect(exampleCommands('chat')).toEqual(['npx switchyard serve --app examples/chat/app.ts'])
    const serve = npx(exampleCommands('chat')[0]!, { PORT: '0' })
    try {
      const [, url] = await serve.waitForOutput(/at (http:\/\/127\.0\.0\.1:\d+)/, 60_000)
      const page = await fetch(`${url!}/`)
      expect(page.status).toBe(200)
      expect(await page.text()).toMatch(/<html/i)
      await terminateLauncher(serve, await commandPid(serve))
    } finally {
      serve.kill()
    }
  }, 90_000)

  it("runs the showcase's workers and replays the webhooks' dead letters on Redis", async () => {
    const [worker, ...others] = [...exampleCommands('showcase'), ...exampleCommands('webhooks')]
    expect(worker).toBe('npx switchyard worker --app examples/showcase/app.ts progress webhooks')
    expect(others).toEqual(['npx switchyard dead-letters replay webhooks --all'])
    const env = { REDIS_URL: inject('redisUrl'), SWITCHYARD_PREFIX: `nx${randomBytes(5).toString('hex')}` }
    const workers = npx(worker!, env)
    try {
      await workers.waitForOutput(/serving channel progress/, 60_000)
      await workers.waitForOutput(/serving channel webhooks/)
      const replay = await mustRun('sh', ['-c', others[0]!], repoRoot, { env })
      expect(replay.stdout).toBe('Replayed 0 dead letters on webhooks\n')
      await terminateLauncher(workers, await commandPid(workers))
      expect(workers.output().stderr).toMatch(/switchyard worker: stopped/)
    } finally {
      workers.kill()
    }
  }, 90_000)
})
