#!/usr/bin/env node
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

interface Io {
  out: (text: string) => void
  err: (text: string) => void
}

interface Command {
  summary: string
  /** Resolves to the process exit code. */
  run: (args: readonly string[], io: Io) => Promise<number>
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
  const width = Math.max(...[...commands.keys()].map((name) => name.length))
  const lines = [...commands].map(([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`)
  return [
    'Usage: switchyard <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'More commands are added here as they land.',
    '',
  ].join('\n')
}

// Later commands plug in here; usage() lists whatever is registered.
const commands = new Map<string, Command>([
  [
    'serve',
    {
      summary: 'Serve an application over HTTP and WebSocket: serve --app <module> [--host H] [--port P]',
      // Loaded on use so `--version` and `--help` do not pay for fastify.
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
    'inspect',
    {
      summary: 'Show channels, groups, workers and dead letters: inspect [--app <module>] [--prefix P] [--json]',
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
  [
    '--version',
    {
      summary: 'Print the switchyard version',
      run: (_args, io) => {
        io.out(`${packageVersion()}\n`)
        return Promise.resolve(0)
      },
    },
  ],
  [
    '--help',
    {
      summary: 'Show this help',
      run: (_args, io) => {
        io.out(usage())
        return Promise.resolve(0)
      },
    },
  ],
])

async function main(argv: readonly string[], io: Io): Promise<number> {
  const [name, ...rest] = argv
  const command = commands.get(name ?? '--help')
  if (command === undefined) {
    io.err(`switchyard: unknown command ${JSON.stringify(name)}\n\n${usage()}`)
    return 2
  }
  return command.run(rest, io)
}

main(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
}).then(
  (code) => {
    // exitCode rather than exit() so buffered stdout is flushed when piped; but a task handler that ignored its
    // abort signal must not keep a stopped worker alive, so exit anyway a second later (unref'd: no delay otherwise).
    process.exitCode = code
    setTimeout(() => process.exit(code), 1_000).unref()
  },
  (error: unknown) => {
    process.stderr.write(`switchyard: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    process.exitCode = 1
  },
)
