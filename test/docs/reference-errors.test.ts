/**
 * docs/reference/errors.md against the error classes: which built-in error each extends and the close code each
 * carries. `test/unit/error-codes.test.ts` checks that the table lists exactly the exported coded errors.
 */
import { describe, expect, it } from 'vitest'

import * as client from '../../src/client/index.js'
import * as api from '../../src/index.js'
import * as testing from '../../src/testing/index.js'
import { codedErrorClasses } from '../support/coded-errors.js'
import { readDoc, tablesOf, type TableRow } from '../support/markdown-tables.js'

const PAGE = 'docs/reference/errors.md'

const rows = (): TableRow[] => {
  const tables = tablesOf(readDoc(PAGE)).filter((table) => table.rows[0]?.code !== undefined)
  expect(tables).toHaveLength(1)
  return tables[0]!.rows
}

const unquote = (cell: string | undefined): string => (cell ?? '').replace(/^`(.*)`$/, '$1')

/** Every exported coded error class by its name (the client's ConnectionClosedError stands for both). */
const classes = new Map(
  [api, testing, client].flatMap((module) => codedErrorClasses(module as Record<string, unknown>)),
)

/** The built-in error a class extends: the nearest of TypeError, RangeError or Error on its prototype chain. */
function builtInBase(type: abstract new (...args: never[]) => Error): string {
  for (const base of [TypeError, RangeError]) if (type.prototype instanceof base) return base.name
  return 'Error'
}

describe(PAGE, () => {
  it('names each class with the built-in error it extends', () => {
    const documented = rows().map((row) => `${unquote(row.class)} extends ${unquote(row.extends)}`)
    const actual = rows().map((row) => {
      const type = classes.get(unquote(row.class))
      return `${unquote(row.class)} extends ${type === undefined ? '(no such export)' : builtInBase(type)}`
    })
    expect(documented).toEqual(actual)
  })

  it('gives the close code of every error that carries one, and none for the others', () => {
    const documented = rows().map((row) => `${unquote(row.class)} ${row.closecode || '-'}`)
    const actual = rows().map((row) => {
      const closeCode: unknown = (classes.get(unquote(row.class)) as { closeCode?: unknown } | undefined)?.closeCode
      return `${unquote(row.class)} ${typeof closeCode === 'number' ? closeCode : '-'}`
    })
    expect(documented).toEqual(actual)
    // The socket-closing errors exist: a check that found none could not fail.
    expect(documented.filter((line) => !line.endsWith(' -')).length).toBeGreaterThanOrEqual(3)
  })

  it('links the close codes it names to the close-code table', () => {
    expect(readDoc(PAGE)).toContain('](close-codes.md)')
  })
})
