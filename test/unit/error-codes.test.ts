import { describe, expect, it } from 'vitest'

import * as client from '../../src/client/index.js'
import * as api from '../../src/index.js'
import * as testing from '../../src/testing/index.js'
import {
  type CodedErrorEntry,
  codedErrorClasses,
  codedErrorsOf,
  errorCodeProblems,
  errorList,
} from '../support/coded-errors.js'
import { documentedErrors, parseErrorTable } from '../support/error-table.js'

/** Every public entry point, as a user imports it. */
const ENTRY_POINTS: Record<string, Record<string, unknown>> = {
  'switchyard-channels': api,
  'switchyard-channels/testing': testing,
  'switchyard-channels/client': client,
}

const exported = Object.entries(ENTRY_POINTS).flatMap(([source, module]) => codedErrorsOf(source, module))

describe('error codes', () => {
  it('every exported coded error has its own code, its own class name and a SWY_ code', () => {
    // Most of src/errors.ts at least, so a collection that finds nothing cannot pass.
    expect(exported.filter((entry) => entry.source === 'switchyard-channels').length).toBeGreaterThanOrEqual(20)
    expect(errorCodeProblems(exported)).toEqual([])
  })

  it('the error table has one row per error, each following the same rules', () => {
    const documented = documentedErrors()
    expect(documented.length).toBeGreaterThanOrEqual(20)
    expect(errorCodeProblems(documented)).toEqual([])
  })

  it('the error table lists exactly the exported coded errors', () => {
    expect(errorList(documentedErrors())).toEqual(errorList(exported))
  })

  it('each instance carries its class code and name as its own properties', () => {
    for (const module of Object.values(ENTRY_POINTS)) {
      for (const [name, type] of codedErrorClasses(module)) {
        // Every coded error's constructor takes strings (a message, a channel, a name) first.
        const error = Reflect.construct(type, ['a', 'b', 'c']) as Error & { code?: unknown }
        expect({ name: type.name, own: Object.keys(error), code: error.code, instanceName: error.name }).toEqual({
          name,
          own: expect.arrayContaining(['code']) as unknown,
          code: type.code,
          instanceName: name,
        })
      }
    }
  })
})

describe('errorCodeProblems (the check above can fail)', () => {
  const error = (name: string, code: unknown, source = 'errors.ts'): CodedErrorEntry => ({ source, name, code })
  const clean = [error('ChannelFullError', 'SWY_CHANNEL_FULL'), error('MessageDecodeError', 'SWY_MESSAGE_DECODE')]

  it('passes distinct errors, and one error mirrored in another entry point', () => {
    expect(errorCodeProblems(clean)).toEqual([])
    expect(errorCodeProblems([...clean, error('ChannelFullError', 'SWY_CHANNEL_FULL', 'client')])).toEqual([])
  })

  it('rejects a code two classes carry', () => {
    expect(errorCodeProblems([...clean, error('ChannelBusyError', 'SWY_CHANNEL_FULL')])).toEqual([
      'code SWY_CHANNEL_FULL is used 2 times: ChannelFullError (SWY_CHANNEL_FULL) in errors.ts, ' +
        'ChannelBusyError (SWY_CHANNEL_FULL) in errors.ts',
    ])
    // Also across entry points: a mirror must match in name as well as code.
    expect(errorCodeProblems([...clean, error('ClosedError', 'SWY_CHANNEL_FULL', 'client')])).toHaveLength(1)
  })

  it('rejects a class name two codes use', () => {
    expect(errorCodeProblems([...clean, error('ChannelFullError', 'SWY_CHANNEL_AT_CAPACITY')])).toEqual([
      'class ChannelFullError is used 2 times: ChannelFullError (SWY_CHANNEL_FULL) in errors.ts, ' +
        'ChannelFullError (SWY_CHANNEL_AT_CAPACITY) in errors.ts',
    ])
  })

  it('rejects the same error twice in one place, as a duplicated table row', () => {
    expect(errorCodeProblems([...clean, clean[0]!])).toEqual([
      expect.stringMatching(/^code SWY_CHANNEL_FULL is used 2 times/) as unknown,
      expect.stringMatching(/^class ChannelFullError is used 2 times/) as unknown,
    ])
  })

  it.each([['SWX_CHANNEL_FULL'], ['swy_channel_full'], ['SWY_'], ['SWY__FULL'], ['SWY_FULL_'], ['CHANNEL_FULL'], [42]])(
    'rejects the code %j, which breaks the SWY_UPPER_SNAKE convention',
    (code) => {
      expect(errorCodeProblems([error('OddError', code)])).toEqual([expect.stringContaining('OddError') as unknown])
    },
  )

  it('reads every row of a table, duplicates and malformed codes included', () => {
    const markdown = [
      'Intro | not a table row',
      '',
      '| code | class | thrown when |',
      '| ---- | ----- | ----------- |',
      '| `SWY_CHANNEL_FULL` | `ChannelFullError` | full |',
      '| `SWY_CHANNEL_FULL` | `ChannelFullError` | full, again |',
      '| `swy_odd` | `OddError` | odd |',
      '',
      '| `SWY_AFTER` | `AfterError` | another table |',
    ].join('\n')
    const rows = parseErrorTable(markdown, 'README.md')
    expect(rows.map((row) => `${String(row.code)} ${row.name}`)).toEqual([
      'SWY_CHANNEL_FULL ChannelFullError',
      'SWY_CHANNEL_FULL ChannelFullError',
      'swy_odd OddError',
    ])
    expect(errorCodeProblems(rows)).toHaveLength(3)
    expect(() => parseErrorTable('no table here', 'README.md')).toThrow(/README.md has no error table/)
  })
})
