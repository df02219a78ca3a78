/**
 * docs/topics/django.md with real channels_redis (Debian's python3, as test/interop/ uses) on the test Redis, under a
 * prefix of its own: settings.py loads into Django and matches layer.ts option for option, notify.py's group_send
 * reaches the chat.ts consumer, Python receives what layer.ts sends, and the options table names real options on
 * both sides.
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'

import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'

import { InvalidOptionError, type Application } from 'switchyard-channels'
import { RedisChannelLayer } from 'switchyard-channels/redis'
import { WebsocketCommunicator } from 'switchyard-channels/testing'

import { ensureDjangoChannels } from '../setup/django.js'
import { DEBIAN_PYTHON } from '../setup/python-packages.js'
import { firstCodeSpan, readDoc, tablesOf } from '../support/markdown-tables.js'
import { docProject, repoRoot, type DocProject } from './doc-blocks.js'

const PAGE = 'docs/topics/django.md'
const redisUrl = inject('redisUrl')
const prefix = `dj${randomBytes(5).toString('hex')}`
const run = promisify(execFile)
// Another interpreter's PYTHONHOME or PYTHONPATH (pyenv) would break Debian's python3.
const { PYTHONHOME: _home, PYTHONPATH: _path, ...pythonEnv } = process.env

/** Loads the page's settings.py into Django (only its CHANNEL_LAYERS: the page shows no more) and runs one action. */
const DRIVER = `
import asyncio, inspect, json, runpy, sys
from django.conf import settings
ns = runpy.run_path("settings.py")
settings.configure(CHANNEL_LAYERS=ns["CHANNEL_LAYERS"])
import django
django.setup()
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
action = sys.argv[1]
if action == "config":
    print(json.dumps(ns["CHANNEL_LAYERS"]))
elif action == "params":
    import channels_redis.core
    print(json.dumps(list(inspect.signature(channels_redis.core.RedisChannelLayer.__init__).parameters)))
elif action == "notify":
    from notify import notify_lobby
    notify_lobby(sys.argv[2])
    print(json.dumps("sent"))
elif action == "receive":
    layer = get_channel_layer()
    async def main():
        try:
            return await asyncio.wait_for(layer.receive(sys.argv[2]), 10)
        finally:
            await layer.close_pools()
    print(json.dumps(async_to_sync(main)()))
`

let project: DocProject
let layer: RedisChannelLayer

async function python(...args: string[]): Promise<unknown> {
  const { stdout } = await run(DEBIAN_PYTHON, ['driver.py', ...args], {
    cwd: project.dir,
    timeout: 30_000,
    env: { ...pythonEnv, PYTHONDONTWRITEBYTECODE: '1' },
  })
  return JSON.parse(stdout)
}

beforeAll(async () => {
  await ensureDjangoChannels()
  // The page's files, with the test's Redis and prefix in place of redis://127.0.0.1:6379/0 and asgi.
  project = await docProject('docs/topics/django.md', ['settings.py', 'notify.py', 'layer.ts', 'chat.ts'], (_, text) =>
    text
      .replaceAll('redis://127.0.0.1:6379/0', redisUrl)
      .replace('"prefix": "asgi"', `"prefix": "${prefix}"`)
      .replace("prefix: 'asgi'", `prefix: '${prefix}'`),
  )
  await writeFile(project.path('driver.py'), DRIVER)
  ;({ layer } = await project.import<{ layer: RedisChannelLayer }>('layer.ts'))
}, 600_000)

afterAll(async () => {
  await layer.flush()
  await layer.close()
})

describe('docs/topics/django.md', () => {
  it('settings.py and layer.ts configure the same layer: hosts, prefix, expiry and group expiry', async () => {
    const config = (await python('config')) as { default: { BACKEND: string; CONFIG: Record<string, unknown> } }
    const interopSettings = readFileSync(
      join(repoRoot, 'test', 'interop', 'django', 'interop_project', 'settings.py'),
      'utf8',
    )
    expect(interopSettings).toContain(`"BACKEND": "${config.default.BACKEND}"`)
    expect(config.default.CONFIG).toEqual({ hosts: [redisUrl], prefix, expiry: 60, group_expiry: 86400 })
    expect(layer.options).toMatchObject({
      hosts: [redisUrl],
      prefix,
      expiryMs: 60 * 1000,
      groupExpiryMs: 86400 * 1000,
      serializer: 'msgpack',
    })
  })

  it("notify.py: Django's group_send runs chat.ts's chat_message, and the socket gets the message", async () => {
    const { application } = await project.import<{ application: Application }>('chat.ts')
    const socket = new WebsocketCommunicator(application, '/ws/lobby/', { layer })
    expect(await socket.connect()).toMatchObject({ connected: true })
    try {
      expect(await python('notify', 'hi from Django')).toBe('sent')
      expect(await socket.receiveJsonFrom({ timeoutMs: 10_000 })).toEqual({
        type: 'chat.message',
        text: 'hi from Django',
      })
    } finally {
      await socket.disconnect()
    }
  }, 60_000)

  it("layer.ts's send reaches Python's receive, values intact", async () => {
    await layer.send('django.jobs', { type: 'job.run', id: 7, ratio: 1.5, tags: ['a'], done: false, note: null })
    expect(await python('receive', 'django.jobs')).toEqual({
      type: 'job.run',
      id: 7,
      ratio: 1.5,
      tags: ['a'],
      done: false,
      note: null,
    })
  }, 60_000)

  it("refuses Django's seconds names, pointing to the millisecond ones", () => {
    expect(() => new RedisChannelLayer({ expiry: 60 } as never)).toThrow(InvalidOptionError)
    expect(() => new RedisChannelLayer({ expiry: 60 } as never)).toThrow(/expiryMs/)
  })

  it('maps real channels_redis options to real RedisChannelLayer options', async () => {
    const params = (await python('params')) as string[]
    // tablesOf would take the settings.py block's first comment for a heading: find the table by its header.
    const [rows = []] = tablesOf(readDoc(PAGE))
      .map((table) => table.rows)
      .filter((table) => table[0]?.['channels_redis config'] !== undefined)
    expect(rows.length).toBe(8)
    for (const row of rows) {
      // The tests run Debian's channels_redis 4.0.0; the page says which option came later.
      if (!row['channels_redis config']!.includes('4.1 and later'))
        expect(params).toContain(firstCodeSpan(row['channels_redis config']))
      expect(Object.keys(layer.options)).toContain(firstCodeSpan(row.redischannellayer))
    }
  }, 60_000)
})
