import { fileURLToPath } from 'node:url'

import { describe, expect, it } from 'vitest'

import type { Application } from '../../src/application.js'
import { deadLettersCommand, type DeadLettersDeps } from '../../src/cli/commands/dead-letters.js'
import { parseDurationMs } from '../../src/cli/duration.js'
import { FakeDeadLetterStore, FakeTaskLayer, sampleDeadLetters } from './fixtures/fake-task-store.js'
import { withTwoDeadLetters } from './fixtures/memory-dead-letters-app.js'

const fixture = fileURLToPath(new URL('./fixtures/dead-letters-app.ts', import.meta.url))
const memoryFixture = fileURLToPath(new URL('./fixtures/memory-dead-letters-app.ts', import.meta.url))
const noop: Application = async () => undefined

interface Result {
  code: number
  out: string
  err: string
}

async function run(args: string[], deps: Partial<DeadLettersDeps> = {}): Promise<Result> {
  let out = ''
  let err = ''
  const code = await deadLettersCommand(
    args,
    {
      out: (text) => (out += text),
      err: (text) => (err += text),
    },
    deps,
  )
  return { code, out, err }
}

/** A store with the sample letters, served as the `layer` export of an injected application module. */
function withStore(): { store: FakeDeadLetterStore; layer: FakeTaskLayer; deps: Partial<DeadLettersDeps> } {
  const store = new FakeDeadLetterStore(sampleDeadLetters())
  const layer = new FakeTaskLayer(store)
  const deps: Partial<DeadLettersDeps> = {
    loadApp: async (path) => ({ path, application: noop, layer }),
  }
  return { store, layer, deps }
}

const APP = ['--app', 'app.ts']

describe('switchyard dead-letters list', () => {
  it('lists every channel from the fixture module, as an aligned table without payloads', async () => {
    const result = await run(['list', '--app', fixture])
    expect(result).toEqual({
      code: 0,
      err: '',
      out: [
        'CHANNEL     ID    TASK ID     ATTEMPTS  DIED AT                   ERROR\n',
        'email.send  dl-2  reset-7     1         2025-02-27T12:00:00.000Z  NonRetryableError: no such user second line\n',
        'email.send  dl-1  welcome-42  6         2025-02-19T12:00:00.000Z  Error: SMTP 550 mailbox unavailable for this recipient, and…\n',
        'thumbnails  dl-3  img-9       6         2025-03-01T11:59:00.000Z  TaskTimeoutError: attempt exceeded 30000 ms\n',
      ].join(''),
    })
    expect(result.out).not.toMatch(/hunter2|ada@example\.com/)
  })

  it('lists one channel without the channel column, errors cut to 60 characters, and closes the layer', async () => {
    const { layer, deps } = withStore()
    const result = await run(['list', 'email.send', ...APP], deps)
    expect(result.code).toBe(0)
    const lines = result.out.trimEnd().split('\n')
    expect(lines[0]).toBe('ID    TASK ID     ATTEMPTS  DIED AT                   ERROR')
    expect(lines).toHaveLength(3)
    const error = lines[2]?.slice(lines[0]?.indexOf('ERROR'))
    expect(error).toHaveLength(60)
    expect(error?.endsWith('…')).toBe(true)
    expect(layer.closed).toBe(1)
  })

  it('honours --limit per channel, newest first', async () => {
    const { deps } = withStore()
    const result = await run(['list', 'email.send', '--limit', '1', ...APP], deps)
    expect(result.out.trimEnd().split('\n').slice(1)).toEqual([expect.stringMatching(/^dl-2 /)])
  })

  it('prints summaries as JSON with --json: no message, no stack', async () => {
    const { deps } = withStore()
    const result = await run(['list', 'email.send', '--json', ...APP], deps)
    const parsed = JSON.parse(result.out) as Record<string, unknown>[]
    expect(parsed.map((letter) => letter.id)).toEqual(['dl-2', 'dl-1'])
    expect(Object.keys(parsed[0] ?? {}).sort()).toEqual([
      'attempts',
      'channel',
      'diedAt',
      'error',
      'firstAttemptAt',
      'id',
      'taskId',
    ])
    expect(result.out).not.toMatch(/hunter2|bob@example\.com/)
  })

  it('says so when a channel has none, and prints [] as JSON', async () => {
    const { deps } = withStore()
    expect(await run(['list', 'quiet', ...APP], deps)).toEqual({ code: 0, out: 'No dead letters on quiet\n', err: '' })
    expect((await run(['list', 'quiet', '--json', ...APP], deps)).out).toBe('[]\n')
  })

  it.each([
    [['list', '--limit', '0'], '--limit must be a positive integer, got "0"'],
    [['list', '--limit', 'ten'], '--limit must be a positive integer, got "ten"'],
    [['list', 'a', 'b'], 'list takes at most one channel'],
    [['list', '--all'], "Unknown option '--all'"],
    [['list', 'bad name'], 'Channel name "bad name" is invalid'],
  ])('refuses %j with exit 2 and usage', async (args, message) => {
    const { layer, deps } = withStore()
    const result = await run(args, deps)
    expect(result.code).toBe(2)
    expect(result.err).toContain(message)
    expect(result.err).toContain('Usage: switchyard dead-letters')
    expect(layer.closed).toBe(0)
  })
})

describe('switchyard dead-letters show', () => {
  it('prints one dead letter for people, with its message and stack', async () => {
    const { deps } = withStore()
    const result = await run(['show', 'email.send', 'dl-2', ...APP], deps)
    expect(result.code).toBe(0)
    expect(result.out).toBe(
      [
        'id:             dl-2',
        'channel:        email.send',
        'task id:        reset-7',
        'attempts:       1',
        'first attempt:  2025-02-27T12:00:00.000Z',
        'died at:        2025-02-27T12:00:00.000Z',
        'error:          NonRetryableError: no such user',
        '                second line',
        'message:',
        '  {',
        '    "type": "email.send",',
        '    "to": "bob@example.com",',
        '    "avatar": {',
        '      "$bytes": "AQID"',
        '    }',
        '  }',
        '',
      ].join('\n'),
    )
    const withStack = await run(['show', 'email.send', 'dl-1', ...APP], deps)
    expect(withStack.out).toContain('stack:\n  Error: SMTP 550\n      at send (mailer.ts:10:5)\n')
  })

  it('prints the whole dead letter as JSON with --json', async () => {
    const { deps } = withStore()
    const result = await run(['show', 'thumbnails', 'dl-3', '--json', ...APP], deps)
    expect(JSON.parse(result.out)).toEqual(sampleDeadLetters()[2])
  })

  it('exits 1 for an unknown id', async () => {
    const { layer, deps } = withStore()
    const result = await run(['show', 'email.send', 'nope', ...APP], deps)
    expect(result).toEqual({ code: 1, out: '', err: 'switchyard dead-letters: no dead letter "nope" on email.send\n' })
    expect(layer.closed).toBe(1)
  })

  it.each([[['show']], [['show', 'email.send']], [['show', 'email.send', 'a', 'b']]])(
    'refuses %j with exit 2',
    async (args) => {
      const result = await run(args, withStore().deps)
      expect(result.code).toBe(2)
      expect(result.err).toContain('show takes a channel and one dead letter id')
    },
  )
})

describe('switchyard dead-letters replay', () => {
  it('replays the named dead letters', async () => {
    const { store, deps } = withStore()
    const result = await run(['replay', 'email.send', 'dl-1', 'dl-1', ...APP], deps)
    expect(result).toEqual({ code: 0, out: 'Replayed 1 dead letter on email.send\n', err: '' })
    expect(store.replayed.map((entry) => entry.message.to)).toEqual(['ada@example.com'])
    expect(await store.listDeadLetters('email.send')).toHaveLength(1)
  })

  it('replays them all with --all', async () => {
    const { store, deps } = withStore()
    expect((await run(['replay', 'email.send', '--all', ...APP], deps)).out).toBe(
      'Replayed 2 dead letters on email.send\n',
    )
    expect(store.replayed).toHaveLength(2)
    expect(await store.deadLetterChannels()).toEqual(['thumbnails'])
  })

  it('exits 1 when some ids matched nothing', async () => {
    const { deps } = withStore()
    const result = await run(['replay', 'email.send', 'dl-1', 'gone', ...APP], deps)
    expect(result.code).toBe(1)
    expect(result.out).toBe('Replayed 1 dead letter on email.send\n')
    expect(result.err).toContain('1 id of 2 matched no dead letter on email.send')
  })

  it.each([
    [['replay'], 'replay takes a channel'],
    [['replay', 'email.send'], 'name the dead letters to replay on email.send, or pass --all'],
    [['replay', 'email.send', 'dl-1', '--all'], 'replay takes dead letter ids or --all, not both'],
  ])('refuses %j with exit 2', async (args, message) => {
    const { store, deps } = withStore()
    const result = await run(args, deps)
    expect(result.code).toBe(2)
    expect(result.err).toContain(message)
    expect(store.replayed).toEqual([])
  })
})

describe('switchyard dead-letters purge', () => {
  it('deletes dead letters older than --older-than', async () => {
    const { store, deps } = withStore()
    const result = await run(['purge', 'email.send', '--older-than', '7d', ...APP], deps)
    expect(result).toEqual({ code: 0, out: 'Purged 1 dead letter from email.send\n', err: '' })
    expect((await store.listDeadLetters('email.send')).map((letter) => letter.id)).toEqual(['dl-2'])
  })

  it('deletes all of a channel with --yes', async () => {
    const { store, deps } = withStore()
    expect((await run(['purge', 'email.send', '--yes', ...APP], deps)).out).toBe(
      'Purged 2 dead letters from email.send\n',
    )
    expect(await store.deadLetterChannels()).toEqual(['thumbnails'])
  })

  it.each([
    [['purge', 'email.send'], 'purge without --older-than deletes every dead letter on email.send; pass --yes'],
    [['purge', 'email.send', '--older-than', '7'], '--older-than must be a whole number with a unit'],
    [['purge', 'email.send', '--older-than', '1w'], 'got "1w"'],
    [['purge', 'email.send', '--older-than', '0s', '--yes'], 'got "0s"'],
    [['purge'], 'purge takes exactly one channel'],
  ])('refuses %j with exit 2 and deletes nothing', async (args, message) => {
    const { store, deps } = withStore()
    const result = await run(args, deps)
    expect(result.code).toBe(2)
    expect(result.err).toContain(message)
    expect(await store.listDeadLetters('email.send')).toHaveLength(2)
  })
})

describe('switchyard dead-letters on the in-memory task store', () => {
  /** A fresh layer with two real dead letters, per command (a command closes its layer). */
  const memoryDeps: Partial<DeadLettersDeps> = {
    loadApp: async (path) => ({ path, application: noop, layer: await withTwoDeadLetters() }),
  }

  it('lists the dead letters of a fixture module exporting an in-memory layer', async () => {
    const result = await run(['list', '--app', memoryFixture])
    expect(result.code).toBe(0)
    const lines = result.out.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^CHANNEL +ID +TASK ID +ATTEMPTS +DIED AT +ERROR$/)
    expect(lines.slice(1).map((line) => line.split(/ {2,}/).slice(2, 4))).toEqual([
      ['welcome-2', '1'],
      ['welcome-1', '1'],
    ])
    expect(result.out).not.toContain('ada@example.com')
  })

  it('shows, replays and purges them', async () => {
    const listed = JSON.parse((await run(['list', 'email.send', '--json', ...APP], memoryDeps)).out) as { id: string }[]
    expect(listed).toHaveLength(2)

    const layer = await withTwoDeadLetters()
    const [newest] = await layer.tasks.listDeadLetters('email.send')
    const shown = await run(['show', 'email.send', newest?.id ?? '', '--json', ...APP], {
      loadApp: async (path) => ({ path, application: noop, layer }),
    })
    expect(JSON.parse(shown.out)).toMatchObject({ taskId: 'welcome-2', message: { to: 'bob@example.com' } })

    expect((await run(['replay', 'email.send', '--all', ...APP], memoryDeps)).out).toBe(
      'Replayed 2 dead letters on email.send\n',
    )
    expect((await run(['purge', 'email.send', '--older-than', '1h', ...APP], memoryDeps)).out).toBe(
      'Purged 0 dead letters from email.send\n',
    )
    expect((await run(['purge', 'email.send', '--yes', ...APP], memoryDeps)).out).toBe(
      'Purged 2 dead letters from email.send\n',
    )
  })
})

describe('switchyard dead-letters: commands and layers', () => {
  it('prints usage for --help, and refuses a missing or unknown command with exit 2', async () => {
    expect((await run(['--help'])).out).toMatch(/^Usage: switchyard dead-letters <command>/)
    expect((await run(['list', '--help'])).code).toBe(0)
    expect((await run([])).err).toContain('name a command: list, show, replay or purge')
    const unknown = await run(['resurrect'])
    expect(unknown.code).toBe(2)
    expect(unknown.err).toContain('unknown command "resurrect"')
  })

  it('exits 1 when --app cannot be loaded', async () => {
    const result = await run(['list', '--app', 'test/unit/fixtures/missing-app.ts'])
    expect(result.code).toBe(1)
    expect(result.err).toMatch(/Cannot load --app .*there is no file at/)
  })

  it('exits 1, closing it, when the layer has no task store', async () => {
    const layer = new FakeTaskLayer(undefined)
    const result = await run(['list', ...APP], { loadApp: async (path) => ({ path, application: noop, layer }) })
    expect(result.code).toBe(1)
    expect(result.err).toContain('the channel layer has no task store (`tasks`)')
    expect(layer.closed).toBe(1)
  })

  it('without --app, uses the layer from the environment with --prefix, warning when it is in memory', async () => {
    const { layer } = withStore()
    const calls: unknown[] = []
    const deps: Partial<DeadLettersDeps> = {
      env: {},
      defaultLayer: (env, options) => {
        calls.push([env, options])
        return layer
      },
    }
    const result = await run(['list', 'thumbnails', '--prefix', 'myapp'], deps)
    expect(result.code).toBe(0)
    expect(calls).toEqual([[{}, { prefix: 'myapp' }]])
    expect(result.err).toContain('REDIS_URL is not set, so this reads a new in-memory layer')
    expect(result.out).toContain('dl-3')
    expect(layer.closed).toBe(1)

    const quiet = await run(['list', 'thumbnails'], { ...deps, env: { REDIS_URL: 'redis://127.0.0.1:1' } })
    expect(quiet.err).toBe('')
  })

  it('falls back to the environment layer when the --app module exports none', async () => {
    const { layer } = withStore()
    const result = await run(['list', 'thumbnails', ...APP], {
      loadApp: async (path) => ({ path, application: noop, layer: undefined }),
      env: { REDIS_URL: 'redis://127.0.0.1:1' },
      defaultLayer: () => layer,
    })
    expect(result.out).toContain('dl-3')
  })
})

describe('parseDurationMs', () => {
  it.each([
    ['30s', 30_000],
    ['15m', 900_000],
    ['2h', 7_200_000],
    ['7d', 604_800_000],
    ['250ms', 250],
  ])('reads %s as %d ms', (text, ms) => {
    expect(parseDurationMs(text)).toBe(ms)
  })

  it.each(['7', '', 'd', '0s', '07d', '1.5h', '-1d', '1 d', '1D', '2w', '99999999999999999d'])('refuses %j', (text) => {
    expect(parseDurationMs(text)).toBeUndefined()
  })
})
