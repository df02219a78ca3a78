/** docs/reference/close-codes.md against `CLOSE_CODE_TABLE`, `CLOSE_CODE_RANGES` and `shouldReconnect`. */
import { describe, expect, it } from 'vitest'

import { CLOSE_CODE_RANGES, CLOSE_CODE_TABLE, shouldReconnect } from '../../src/protocol/close-codes.js'
import { firstCodeSpan, readDoc, tableUnder } from '../support/markdown-tables.js'

const PAGE = 'docs/reference/close-codes.md'

/** `yes` or `no`, as the page writes the reconnect column. */
const yesNo = (reconnect: boolean): string => (reconnect ? 'yes' : 'no')

describe(PAGE, () => {
  it('lists every named code with its constant and whether the client reconnects, in the order of the table', () => {
    const documented = tableUnder(readDoc(PAGE), 'Named codes', PAGE).map(
      (row) => `${row.code} ${firstCodeSpan(row.constant) ?? row.constant} ${row.reconnects}`,
    )
    const actual = CLOSE_CODE_TABLE.map((entry) => `${entry.code} ${entry.name} ${yesNo(entry.reconnect)}`)
    expect(actual.length).toBeGreaterThanOrEqual(15)
    expect(documented).toEqual(actual)
  })

  it('lists every range with whether the client reconnects', () => {
    const documented = tableUnder(readDoc(PAGE), 'Ranges', PAGE).map((row) => `${row.codes} ${row.reconnects}`)
    const actual = CLOSE_CODE_RANGES.map((range) => `${range.first}-${range.last} ${yesNo(range.reconnect)}`)
    expect(documented).toEqual(actual)
  })

  it('says what shouldReconnect does, for every named code and both ends of every range', () => {
    const page = readDoc(PAGE)
    const said = [
      ...tableUnder(page, 'Named codes', PAGE).map((row) => [Number(row.code), row.reconnects] as const),
      ...tableUnder(page, 'Ranges', PAGE).flatMap((row) => {
        const [first, last] = (row.codes ?? '').split('-').map(Number)
        // A named code inside a range (3000, 3003) overrides it: look just inside the ends.
        return [[first! + 1, row.reconnects] as const, [last!, row.reconnects] as const]
      }),
    ]
    expect(said.map(([code]) => `${code} ${yesNo(shouldReconnect(code))}`)).toEqual(
      said.map(([code, reconnects]) => `${code} ${reconnects}`),
    )
  })
})
