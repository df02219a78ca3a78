import { describe, expect, it } from 'vitest'

import { InvalidOptionError } from '../../src/errors.js'
import { createLogger, logFormat } from '../../src/logger.js'

function capture(format: 'json' | 'pretty') {
  const lines: string[] = []
  const log = createLogger({
    level: 'info',
    format,
    colorize: false,
    destination: { write: (line) => lines.push(line) },
  })
  return { log, lines }
}

describe('logFormat', () => {
  it('is pretty on a terminal and JSON otherwise', () => {
    expect(logFormat({}, true)).toBe('pretty')
    expect(logFormat({}, false)).toBe('json')
    // A child process's stderr (a pipe) has no isTTY at all.
    expect(logFormat({}, undefined)).toBe('json')
  })

  it('follows SWITCHYARD_LOG_FORMAT when set, and refuses other values naming the variable', () => {
    expect(logFormat({ SWITCHYARD_LOG_FORMAT: 'json' }, true)).toBe('json')
    expect(logFormat({ SWITCHYARD_LOG_FORMAT: 'pretty' }, false)).toBe('pretty')
    expect(logFormat({ SWITCHYARD_LOG_FORMAT: '' }, true)).toBe('pretty')
    expect(() => logFormat({ SWITCHYARD_LOG_FORMAT: 'yaml' }, true)).toThrow(InvalidOptionError)
    expect(() => logFormat({ SWITCHYARD_LOG_FORMAT: 'yaml' }, true)).toThrow(
      /`SWITCHYARD_LOG_FORMAT \(environment\)` to be 'json' or 'pretty', got "yaml"/,
    )
  })
})

describe('createLogger', () => {
  it('writes one JSON object per line for machines, object first and a constant message', () => {
    const { log, lines } = capture('json')
    log.info({ channel: 'email.send' }, 'worker serving channel')
    expect(lines).toHaveLength(1)
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: 30,
      name: 'switchyard',
      channel: 'email.send',
      msg: 'worker serving channel',
    })
  })

  it('writes pino-pretty lines for people: time, level, name, message, then the fields on the same line, synchronously', () => {
    const { log, lines } = capture('pretty')
    log.warn({ host: 'redis://127.0.0.1:6379' }, 'redis connection error')
    expect(lines).toHaveLength(1)
    const [line = ''] = lines
    expect(() => JSON.parse(line) as unknown).toThrow()
    expect(line).toMatch(
      /^\[\d\d:\d\d:\d\d\.\d{3}\] WARN \(switchyard\): redis connection error \{"host":"redis:\/\/127\.0\.0\.1:6379"\}\n$/,
    )
    expect(line).not.toContain('pid')
  })

  it('honours the level in both formats', () => {
    for (const format of ['json', 'pretty'] as const) {
      const { log, lines } = capture(format)
      log.debug('not shown')
      expect(lines).toEqual([])
    }
  })
})
