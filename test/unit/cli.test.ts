import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const repoRoot = fileURLToPath(new URL('../../', import.meta.url))
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }

interface CliResult {
  code: number
  stdout: string
  stderr: string
}

function cli(...args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    execFile(
      'npx',
      ['tsx', 'src/cli/main.ts', ...args],
      { cwd: repoRoot, timeout: 30_000 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          reject(new Error('could not run the cli', { cause: error }))
          return
        }
        resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr })
      },
    )
  })
}

describe('switchyard cli', () => {
  it('prints the package version for --version', async () => {
    const result = await cli('--version')
    expect(result).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' })
  })

  it('prints usage listing --version and --help for --help', async () => {
    const result = await cli('--help')
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^Usage: switchyard <command>/)
    expect(result.stdout).toContain('--version')
    expect(result.stdout).toContain('--help')
    expect(result.stderr).toBe('')
  })

  it('prints the same usage with no arguments', async () => {
    const [bare, help] = await Promise.all([cli(), cli('--help')])
    expect(bare).toEqual(help)
  })

  it('rejects an unknown command with usage on stderr and exit code 2', async () => {
    const result = await cli('frobnicate')
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.stderr).toContain('unknown command "frobnicate"')
    expect(result.stderr).toContain('Usage: switchyard')
  })
})
