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
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
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

const COMMANDS = ['serve', 'worker', 'send', 'dead-letters', 'inspect', 'purge']

/** Runs `task` on every item, two at a time: one per core. */
async function inTurns<T, R>(items: readonly T[], task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = []
  for (let i = 0; i < items.length; i += 2) results.push(...(await Promise.all(items.slice(i, i + 2).map(task))))
  return results
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

  it('prints the usage to stderr and exits 2 with no arguments', async () => {
    const [bare, help] = await Promise.all([cli(), cli('--help')])
    expect(bare).toEqual({ code: 2, stdout: '', stderr: help.stdout })
  })

  it('lists every command, the global options and the environment, with nothing promised for later', async () => {
    const { stdout } = await cli('help')
    for (const command of COMMANDS) expect(stdout).toMatch(new RegExp(`^  ${command} +\\S`, 'm'))
    expect(stdout).toMatch(/^ {2}help +Show this help, or a command's options: help <command>$/m)
    expect(stdout).toMatch(/^ {2}--verbose +Print the stack trace/m)
    for (const variable of [
      'REDIS_URL',
      'SWITCHYARD_PREFIX',
      'PORT',
      'SWITCHYARD_LOG_LEVEL',
      'SWITCHYARD_LOG_FORMAT',
    ]) {
      expect(stdout).toMatch(new RegExp(`^  ${variable} `, 'm'))
    }
    expect(stdout).not.toContain('More commands')
  })

  it('help, --help and -h print the same usage on stdout', async () => {
    const [help, long, short] = await Promise.all([cli('help'), cli('--help'), cli('-h')])
    expect(help).toEqual({ code: 0, stdout: long.stdout, stderr: '' })
    expect(short).toEqual(help)
  })

  it("help <command> prints the command's usage, as <command> --help and -h do, with --verbose taken by every command", async () => {
    const results = await inTurns(COMMANDS, async (command) => ({
      command,
      help: await cli('help', command),
      short: await cli(command, '-h', '--verbose'),
    }))
    for (const { command, help, short } of results) {
      expect(help.code, command).toBe(0)
      expect(help.stdout, command).toMatch(new RegExp(`^Usage: switchyard ${command} `))
      expect(help.stderr, command).toBe('')
      expect(short, command).toEqual(help)
    }
  }, 120_000)

  it('help refuses an unknown command with exit 2', async () => {
    const result = await cli('help', 'frobnicate')
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/^switchyard help: unknown command "frobnicate"\n\nUsage: switchyard/)
  })

  it('rejects an unknown command with usage on stderr and exit code 2', async () => {
    const result = await cli('frobnicate')
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.stderr).toContain('unknown command "frobnicate"')
    expect(result.stderr).toContain('Usage: switchyard')
  })
})
