#!/usr/bin/env node
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { HELP_WORDS } from './command-args.js'
import { reportError, type CommandIo } from './command-error.js'

interface Command {
  summary: string
  /** Resolves to the process exit code. */
  run: (args: readonly string[], io: CommandIo) => Promise<number>
}

/**
 * The package.json sits two levels up in the repo (src/cli/main.ts) but three in the
 * published package (dist/src/cli/main.js), so walk up instead of hard-coding a depth.
 */
function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown }
      if (pkg.name === 'switchyard-channels' && typeof pkg.version === 'string') return pkg.version
    } catch {
      // No readable package.json here; keep walking up.
    }
    const parent = dirname(dir)
    if (parent === dir) throw new Error('switchyard: cannot find its own package.json')
    dir = parent
  }
}

function usage(): string {
  const names = [...commands.keys(), 'help']
  const width = Math.max(...names.map((name) => name.length))
  const lines = [...commands].map(([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`)
  return `Usage: switchyard <command> [options]

Commands:
${lines.join('\n')}
  ${'help'.padEnd(width)}  Show this help, or a command's options: help <command>

Options:
  --help, -h  This help; after a command, that command's usage and options
  --verbose   Print the stack trace under an error message (every command takes it)
  --version   Print the switchyard version

Environment:
  REDIS_URL              The Redis layer, when --app exports no \`layer\`: redis://[:password@]host:port[/db]
  SWITCHYARD_PREFIX      Redis key prefix when the layer comes from REDIS_URL (default asgi; --prefix wins)
  PORT                   The port serve listens on without --port (default 8000)
  SWITCHYARD_LOG_LEVEL   trace, debug, info (default), warn, error or silent
  SWITCHYARD_LOG_FORMAT  pretty or json (default: pretty when stderr is a terminal, else json)

Run \`switchyard help <command>\` for a command's options.
`
}

/** Every command, in the order the help lists them; each module is loaded on use, so `--version` stays fast. */
const commands = new Map<string, Command>([
  [
    'serve',
    {
      summary: 'Serve an application over HTTP and WebSocket: serve --app <module> [--host H] [--port P]',
      run: async (args, io) => (await import('./commands/serve.js')).serveCommand(args, io),
    },
  ],
  [
    'worker',
    {
      summary: 'Serve background channels (runworker): worker --app <module> [--concurrency N] <channel...>',
      run: async (args, io) => (await import('./commands/worker.js')).workerCommand(args, io),
    },
  ],
  [
    'send',
    {
      summary: "Send one message to a channel: send [--app <module>] <channel> '<message-json>'",
      run: async (args, io) => (await import('./commands/send.js')).sendCommand(args, io),
    },
  ],
  [
    'dead-letters',
    {
      summary: 'Inspect and manage dead letters: dead-letters list | show | replay | purge',
      run: async (args, io) => (await import('./commands/dead-letters.js')).deadLettersCommand(args, io),
    },
  ],
  [
    'tasks',
    {
      summary: 'Tasks by id (chains and chords too): tasks state | cancel [--app <module>] <id>',
      run: async (args, io) => (await import('./commands/tasks.js')).tasksCommand(args, io),
    },
  ],
  [
    'schedules',
    {
      summary: 'List and remove periodic tasks: schedules list | remove <id>',
      run: async (args, io) => (await import('./commands/schedules.js')).schedulesCommand(args, io),
    },
  ],
  [
    'inspect',
    {
      summary: 'Show channels, groups, workers, servers, dead letters, schedules: inspect [--app <module>] [--json]',
      run: async (args, io) => (await import('./commands/inspect.js')).inspectCommand(args, io),
    },
  ],
  [
    'purge',
    {
      summary: 'Remove expired dead letters, stale workers and group memberships: purge [--dry-run]',
      run: async (args, io) => (await import('./commands/purge.js')).purgeCommand(args, io),
    },
  ],
])

/** `--verbose` may come anywhere before a `--`; it is taken out before the command parses its own options. */
function takeVerbose(argv: readonly string[]): { verbose: boolean; args: string[] } {
  const end = argv.includes('--') ? argv.indexOf('--') : argv.length
  const args = argv.filter((arg, index) => index >= end || arg !== '--verbose')
  return { verbose: args.length !== argv.length, args }
}

/** `help` alone is this help on stdout; `help <command>` runs the command's own `--help`. */
async function help(topic: string | undefined, io: CommandIo): Promise<number> {
  if (topic === undefined || HELP_WORDS.has(topic)) {
    io.out(usage())
    return 0
  }
  const command = commands.get(topic)
  if (command === undefined) {
    io.err(`switchyard help: unknown command ${JSON.stringify(topic)}\n\n${usage()}`)
    return 2
  }
  return command.run(['--help'], io)
}

async function main(argv: readonly string[], streams: Omit<CommandIo, 'verbose'>): Promise<number> {
  const { verbose, args } = takeVerbose(argv)
  const io: CommandIo = { ...streams, verbose }
  const [name, ...rest] = args
  if (name === undefined) {
    // A bare `switchyard` asked for nothing: the help, as an error, so a script that forgot its command fails.
    io.err(usage())
    return 2
  }
  if (name === '--version') {
    io.out(`${packageVersion()}\n`)
    return 0
  }
  if (HELP_WORDS.has(name)) return help(rest[0], io)
  const command = commands.get(name)
  if (command === undefined) {
    io.err(`switchyard: unknown command ${JSON.stringify(name)}\n\n${usage()}`)
    return 2
  }
  try {
    return await command.run(rest, io)
  } catch (error) {
    // Bad configuration (REDIS_URL, an unreachable Redis, a port in use) ends here as one line; a bug too.
    reportError(name, error, io)
    return 1
  }
}

// exitCode rather than exit() so buffered stdout is flushed when piped; but a task handler that ignored its abort
// signal, or a Redis client still reconnecting, must not keep the process alive, so exit anyway a second later
// (unref'd: no delay otherwise).
function exitWith(code: number): void {
  process.exitCode = code
  setTimeout(() => process.exit(code), 1_000).unref()
}

const argv = process.argv.slice(2)
main(argv, {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
}).then(exitWith, (error: unknown) => {
  reportError(undefined, error, { err: (text) => process.stderr.write(text), verbose: takeVerbose(argv).verbose })
  exitWith(1)
})
