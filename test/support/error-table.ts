/**
 * The documented error table, read for `test/unit/error-codes.test.ts`. The one place that knows where it lives.
 */
import { readFileSync } from 'node:fs'
import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'

import type { CodedErrorEntry } from './coded-errors.js'

/** The file holding the table: the one line to change when the table moves. */
export const ERROR_TABLE_FILE = new URL('../../docs/reference/errors.md', import.meta.url)

/** The table's header row: `| code | class | ...`; only the first two columns are read here. */
const HEADER = /^\|\s*code\s*\|\s*class\s*\|/

/**
 * Every row of the markdown table that follows the `| code | class | ... |` header, in order and with any
 * duplicates, so the check sees them. Takes every row, not only well-formed ones: a row whose code breaks the
 * convention must reach the check rather than be skipped. Throws when there is no such table.
 */
export function parseErrorTable(markdown: string, source: string): CodedErrorEntry[] {
  const lines = markdown.split('\n')
  const header = lines.findIndex((line) => HEADER.test(line))
  if (header === -1) throw new Error(`${source} has no error table (a \`| code | class | ... |\` header)`)
  const rows: CodedErrorEntry[] = []
  // header + 1 is the |---|---| separator.
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith('|')) break
    const [code = '', name = ''] = line
      .split('|')
      .slice(1, 3)
      .map((cell) => cell.trim().replace(/^`(.*)`$/, '$1'))
    rows.push({ source, name, code })
  }
  return rows
}

/** The rows of the error table in `ERROR_TABLE_FILE`. */
export function documentedErrors(): CodedErrorEntry[] {
  const path = fileURLToPath(ERROR_TABLE_FILE)
  return parseErrorTable(readFileSync(path, 'utf8'), relative(process.cwd(), path))
}
