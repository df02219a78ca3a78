/**
 * docs/reference/cli.md against what `switchyard --help` and each `switchyard <command> --help` print: every
 * command, option and environment variable is described, and the documented defaults are the code's. The main help
 * comes from running the command; a command's help is its `*_USAGE` text, which is what `--help` prints (one process
 * per command would take seconds each).
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'

import { beforeAll, describe, expect, it } from 'vitest'

import { DEAD_LETTERS_USAGE, DEFAULT_LIST_LIMIT } from '../../src/cli/commands/dead-letters.js'
import { INSPECT_USAGE } from '../../src/cli/commands/inspect.js'
import { DEFAULT_PROGRESS_EVERY, PURGE_USAGE } from '../../src/cli/commands/purge.js'
import { SCHEDULES_USAGE } from '../../src/cli/commands/schedules.js'
import { SEND_USAGE } from '../../src/cli/commands/send.js'
import { SERVE_USAGE } from '../../src/cli/commands/serve.js'
import { TASKS_USAGE } from '../../src/cli/commands/tasks.js'
import { WORKER_USAGE } from '../../src/cli/commands/worker.js'
import { DEFAULT_INSPECT_LIMIT } from '../../src/layers/snapshot-parts.js'
import { firstCodeSpan, readDoc, sectionOf, tablesOf, tableUnder } from '../support/markdown-tables.js'

const PAGE = 'docs/reference/cli.md'
const repoRoot = fileURLToPath(new URL('../../', import.meta.url))

/** stdout of `switchyard <args>` run from the sources; rejects unless it exits 0. */
function help(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      { cwd: repoRoot, timeout: 30_000 },
      (error, stdout) => {
        if (error) reject(new Error(`switchyard ${args.join(' ')} failed`, { cause: error }))
        else resolve(stdout)
      },
    )
  })
}

/** The indented lines under `title:` in a help text, up to the next blank line. */
function helpSection(text: string, title: string): string[] {
  const lines = text.split('\n')
  const start = lines.indexOf(`${title}:`)
  if (start === -1) throw new Error(`the help has no "${title}:" section`)
  const end = lines.findIndex((line, index) => index > start && line.trim() === '')
  return lines.slice(start + 1, end === -1 ? undefined : end)
}

/** Every option a help text names: `--word-word` and `-h`. */
const optionsIn = (text: string): string[] => [...new Set(text.match(/(?<![\w-])--?[a-z][a-z-]*/g) ?? [])].sort()

/** The code spans of a markdown text. */
const codeSpans = (text: string): Set<string> => new Set([...text.matchAll(/`([^`]*)`/g)].map((m) => m[1]!))

/** What `switchyard <command> --help` prints, by command. */
const USAGES: Readonly<Record<string, string>> = {
  serve: SERVE_USAGE,
  worker: WORKER_USAGE,
  send: SEND_USAGE,
  'dead-letters': DEAD_LETTERS_USAGE,
  tasks: TASKS_USAGE,
  schedules: SCHEDULES_USAGE,
  inspect: INSPECT_USAGE,
  purge: PURGE_USAGE,
}

let mainHelp = ''
const commandHelp = new Map<string, string>()

beforeAll(async () => {
  mainHelp = await help('--help')
  const commands = helpSection(mainHelp, 'Commands')
    .map((line) => /^\s{2}(\S+)/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined && name !== 'help')
  for (const command of commands) {
    const usage = USAGES[command]
    if (usage === undefined) throw new Error(`add the usage of \`switchyard ${command}\` to USAGES`)
    commandHelp.set(command, usage)
  }
}, 60_000)

describe(PAGE, () => {
  it('lists every command of `switchyard --help`, each but help with its own section', () => {
    const page = readDoc(PAGE)
    const listed = helpSection(mainHelp, 'Commands').map((line) => /^\s{2}(\S+)/.exec(line)?.[1])
    const documented = tableUnder(page, 'Commands', PAGE).map((row) => firstCodeSpan(row.command))
    expect(listed.length).toBeGreaterThanOrEqual(7)
    expect(documented).toEqual(listed)
    for (const command of commandHelp.keys())
      expect(() => sectionOf(page, `\`switchyard ${command}\``, PAGE)).not.toThrow()
  })

  it('describes the global options and every environment variable the help names', () => {
    const page = readDoc(PAGE)
    const globals = tableUnder(page, 'Global options', PAGE).flatMap((row) => [...codeSpans(row.option ?? '')])
    expect(optionsIn(helpSection(mainHelp, 'Options').join('\n')).filter((flag) => !globals.includes(flag))).toEqual([])
    const variables = helpSection(mainHelp, 'Environment').map((line) => /^\s+([A-Z_]+)\s/.exec(line)?.[1])
    expect(variables.length).toBeGreaterThanOrEqual(5)
    const documented = tableUnder(page, 'Environment', PAGE).map((row) => firstCodeSpan(row.variable))
    expect(documented).toEqual(variables)
  })

  it("describes every option of each command's --help in that command's section", () => {
    const page = readDoc(PAGE)
    const missing: string[] = []
    for (const [command, text] of commandHelp) {
      const section = codeSpans(sectionOf(page, `\`switchyard ${command}\``, PAGE))
      const described = [...section].flatMap((span) => span.match(/(?<![\w-])--?[a-z][a-z-]*/g) ?? [])
      for (const flag of optionsIn(text)) if (!described.includes(flag)) missing.push(`${command} ${flag}`)
    }
    expect(commandHelp.size).toBeGreaterThanOrEqual(6)
    expect(missing).toEqual([])
  })

  it('names the subcommands of dead-letters', () => {
    const subcommands = helpSection(commandHelp.get('dead-letters') ?? '', 'Commands')
      .map((line) => /^\s{2}([a-z]+)\s/.exec(line)?.[1])
      .filter((name) => name !== undefined)
    expect(subcommands).toEqual(['list', 'show', 'replay', 'purge'])
    const section = sectionOf(readDoc(PAGE), '`switchyard dead-letters`', PAGE)
    const documented = tablesOf(section)
      .flatMap((table) => table.rows.map((row) => firstCodeSpan(row.subcommand)?.split(' ')[0]))
      .filter((name) => name !== undefined)
    expect(documented).toEqual(subcommands)
  })

  it('gives the defaults the code uses', () => {
    const page = readDoc(PAGE)
    const defaultOf = (command: string, flag: string): string | undefined => {
      const rows = tablesOf(sectionOf(page, `\`switchyard ${command}\``, PAGE)).flatMap((table) => table.rows)
      return firstCodeSpan(rows.find((row) => firstCodeSpan(row.option) === flag)?.default)
    }
    expect({
      limit: defaultOf('dead-letters', '--limit'),
      maxChannels: defaultOf('inspect', '--max-channels'),
      maxGroups: defaultOf('inspect', '--max-groups'),
      progressEvery: defaultOf('purge', '--progress-every'),
    }).toEqual({
      limit: String(DEFAULT_LIST_LIMIT),
      maxChannels: String(DEFAULT_INSPECT_LIMIT),
      maxGroups: String(DEFAULT_INSPECT_LIMIT),
      progressEvery: String(DEFAULT_PROGRESS_EVERY),
    })
  })
})
