/**
 * `npm start` as a user and a supervisor run it: the real npm, the showcase on a free port, then SIGTERM or SIGINT
 * to npm or to the server process. However it is signalled, the server shuts down gracefully and nothing is left
 * running (npm used to die alone and leave the server serving as an orphan).
 */
import { describe, expect, it } from 'vitest'

import { envWithoutNpmConfig, repoRoot } from '../package/consumer-project.js'
import { isAlive, spawnProcess } from '../support/spawned.js'
import { waitFor } from '../support/wait.js'

describe('npm start', () => {
  it.each([
    ['SIGTERM', 'npm'],
    ['SIGINT', 'npm'],
    ['SIGTERM', 'the server'],
    ['SIGINT', 'the server'],
  ] as const)(
    'stops the showcase gracefully on %s to %s, leaving no process behind',
    async (signal, target) => {
      const npm = spawnProcess('npm', ['start'], {
        cwd: repoRoot,
        env: envWithoutNpmConfig({ PORT: '0', SWITCHYARD_LOG_LEVEL: 'info' }),
      })
      try {
        const [, url] = await npm.waitForOutput(/open (http:\/\/127\.0\.0\.1:\d+)\//, 60_000)
        const serverPid = Number((await npm.waitForOutput(/"pid":(\d+)/))[1])
        expect((await fetch(`${url!}/`)).status).toBe(200)

        process.kill(target === 'npm' ? npm.pid : serverPid, signal)
        await npm.exited
        await waitFor(`the server (pid ${serverPid}) to exit`, () => !isAlive(serverPid), { timeoutMs: 10_000 })
        expect(npm.output().stderr).toMatch(/"msg":"switchyard server stopped"/)
        await expect(fetch(`${url!}/`)).rejects.toThrow()
      } finally {
        npm.kill()
      }
    },
    90_000,
  )
})
