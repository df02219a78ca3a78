// `switchyard schedules list | remove` on an in-memory layer served as an injected --app module's `layer` export.
import { afterEach, describe, expect, it, vi } from 'vitest'

import { schedulesCommand } from '../../src/cli/commands/schedules.js'
import { InMemoryChannelLayer } from '../../src/layers/memory/memory-layer.js'

const T0 = Date.parse('2026-01-05T08:00:00.000Z')
const noop = async (): Promise<void> => undefined

afterEach(() => {
  vi.useRealTimers()
})

async function run(args: string[], layer: InMemoryChannelLayer): Promise<{ code: number; out: string; err: string }> {
  let out = ''
  let err = ''
  // The command closes the layer it read, and a closed layer refuses schedule calls: the test reads this one
  // layer again, so its close is held back (and the test closes it at the end).
  const close = vi.spyOn(layer, 'close').mockResolvedValue(undefined)
  try {
    const code = await schedulesCommand(
      [...args, '--app', 'app.ts'],
      { out: (text) => (out += text), err: (text) => (err += text) },
      { loadApp: async (path) => ({ path, application: noop, layer }) },
    )
    return { code, out, err }
  } finally {
    close.mockRestore()
  }
}

async function layerWithSchedules(): Promise<InMemoryChannelLayer> {
  vi.useFakeTimers({ toFake: ['Date'], now: T0 })
  const layer = new InMemoryChannelLayer()
  await layer.tasks.schedule('beat', { channel: 'jobs', message: { type: 'job.run', secret: 's3' }, everyMs: 60_000 })
  await layer.tasks.schedule('nightly', { channel: 'reports', message: { type: 'report.build' }, cron: '0 3 * * *' })
  return layer
}

describe('switchyard schedules', () => {
  it('lists schedules soonest first, without payloads', async () => {
    const layer = await layerWithSchedules()
    const result = await run(['list'], layer)
    expect(result).toEqual({
      code: 0,
      err: '',
      out: [
        'ID       CHANNEL  TYPE          WHEN                  CATCH-UP  NEXT RUN                  LAST RUN',
        'beat     jobs     job.run       every 60000 ms        one       2026-01-05T08:01:00.000Z  -',
        'nightly  reports  report.build  cron 0 3 * * * (UTC)  one       2026-01-06T03:00:00.000Z  -',
        '',
      ].join('\n'),
    })
    const json = JSON.parse((await run(['list', '--json'], layer)).out) as Record<string, unknown>[]
    expect(json.map((s) => [s.id, s.type, s.nextRunMs])).toEqual([
      ['beat', 'job.run', T0 + 60_000],
      ['nightly', 'report.build', Date.parse('2026-01-06T03:00:00.000Z')],
    ])
    expect(JSON.stringify(json)).not.toContain('s3')
    await layer.close()
  })

  it('removes a schedule, and exits 1 for one that does not exist', async () => {
    const layer = await layerWithSchedules()
    expect(await run(['remove', 'beat'], layer)).toEqual({ code: 0, out: 'Removed schedule beat\n', err: '' })
    expect(await run(['remove', 'beat'], layer)).toEqual({
      code: 1,
      out: '',
      err: 'switchyard schedules: no schedule "beat"\n',
    })
    expect((await layer.tasks.listSchedules()).map((s) => s.id)).toEqual(['nightly'])
    expect((await run(['remove'], layer)).code).toBe(2)
    expect((await run(['drop', 'x'], layer)).code).toBe(2)
    await layer.close()
  })
})
