import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

import { describe, expect, it } from 'vitest'

import { client, closed, nextMessage } from './helpers.js'

const repoRoot = fileURLToPath(new URL('../../', import.meta.url))

function run(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: repoRoot,
    env: { ...process.env, SWITCHYARD_LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      resolve(code)
    }),
  )
  return { child, exited, output: () => ({ stdout, stderr }) }
}

describe('switchyard serve', () => {
  it('serves --app, echoes over WebSocket, and exits 0 on SIGTERM after a graceful close', async () => {
    const cli = run(['serve', '--app', 'test/server/fixtures/echo-app.ts', '--port', '0'])
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new Error(`no URL printed: ${JSON.stringify(cli.output())}`))
        }, 15_000)
        cli.child.stdout.on('data', () => {
          const match = /at (http:\/\/127\.0\.0\.1:\d+)/.exec(cli.output().stdout)
          if (match?.[1] !== undefined) {
            clearTimeout(timer)
            resolve(match[1])
          }
        })
      })
      expect(await (await fetch(`${url}/health`)).text()).toBe('ok')
      const socket = client(`${url.replace('http', 'ws')}/ws/`)
      await new Promise((resolve) => socket.once('open', resolve))
      socket.send('hello')
      expect((await nextMessage(socket)).data.toString()).toBe('echo: hello')
      const closing = closed(socket)
      cli.child.kill('SIGTERM')
      expect((await closing).code).toBe(1001)
      expect(await cli.exited).toBe(0)
      expect(cli.output().stdout).toMatch(/^switchyard serving test\/server\/fixtures\/echo-app\.ts at http:/)
    } finally {
      cli.child.kill('SIGKILL')
    }
  })

  it('exits 1 with a clear message when the module is missing', async () => {
    const cli = run(['serve', '--app', 'nope/missing-app.ts'])
    expect(await cli.exited).toBe(1)
    expect(cli.output().stderr).toMatch(/Cannot load --app "nope\/missing-app\.ts": there is no file at/)
  })

  it('exits 2 without --app', async () => {
    const cli = run(['serve'])
    expect(await cli.exited).toBe(2)
    expect(cli.output().stderr).toContain('--app is required')
  })
})
