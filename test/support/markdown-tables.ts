/**
 * Reads the tables of the reference pages (docs/reference/*.md) for the tests that keep them in sync with the code.
 * Pages are read from the repository, so a test names the file it checks.
 */
import { readFileSync } from 'node:fs'

/** One table row: each cell's text under its header's name (lower case, without backticks). */
export type TableRow = Readonly<Record<string, string>>

/** The text of `path` (relative to the repository root). */
export function readDoc(path: string): string {
  return readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8')
}

/** A row's cells, split on unescaped pipes, trimmed, with `\|` unescaped. */
export function cellsOf(line: string): string[] {
  return line
    .trim()
    .replace(/^\|/, '')
    .replace(/(?<!\\)\|$/, '')
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim().replaceAll('\\|', '|'))
}

/** A header cell as a key: lower case, backticks removed. */
function headerKey(cell: string): string {
  return cell.replaceAll('`', '').trim().toLowerCase()
}

/** The table starting at `lines[start]` (its header row), every row keyed by the header. */
function tableAt(lines: readonly string[], start: number): TableRow[] {
  const header = cellsOf(lines[start] ?? '').map(headerKey)
  const rows: TableRow[] = []
  // start + 1 is the |---|---| separator.
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break
    const cells = cellsOf(line)
    rows.push(Object.fromEntries(header.map((key, index) => [key, cells[index] ?? ''])))
  }
  return rows
}

const isTableStart = (lines: readonly string[], index: number): boolean =>
  (lines[index] ?? '').startsWith('|') && /^\|[\s:|-]+\|$/.test((lines[index + 1] ?? '').trim())

/** Every table of `markdown`, with the text of the heading it sits under ('' before the first heading). */
export function tablesOf(markdown: string): { readonly heading: string; readonly rows: TableRow[] }[] {
  const lines = markdown.split('\n')
  const tables: { heading: string; rows: TableRow[] }[] = []
  let heading = ''
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] ?? ''
    const title = /^#{1,6}\s+(.*)$/.exec(line)
    if (title !== null) heading = title[1]?.trim() ?? ''
    else if (isTableStart(lines, index) && !(lines[index - 1] ?? '').startsWith('|')) {
      tables.push({ heading, rows: tableAt(lines, index) })
    }
  }
  return tables
}

/** The one table under the heading `heading`; throws when there is none, or several. */
export function tableUnder(markdown: string, heading: string, source: string): TableRow[] {
  const found = tablesOf(markdown).filter((table) => table.heading === heading)
  if (found.length !== 1) throw new Error(`${source} has ${found.length} tables under the heading "${heading}"`)
  return found[0]!.rows
}

/** The text of the first code span in `cell` (`` `capacity` `` -> `capacity`), or undefined. */
export function firstCodeSpan(cell: string | undefined): string | undefined {
  return /`([^`]*)`/.exec(cell ?? '')?.[1]
}

/** The text of a section: from the heading `heading` to the next heading of the same or a higher level. */
export function sectionOf(markdown: string, heading: string, source: string): string {
  const lines = markdown.split('\n')
  const start = lines.findIndex((line) => /^#{1,6}\s/.test(line) && line.replace(/^#+\s+/, '').trim() === heading)
  if (start === -1) throw new Error(`${source} has no heading "${heading}"`)
  const level = /^#+/.exec(lines[start]!)![0].length
  const end = lines.findIndex((line, index) => index > start && new RegExp(`^#{1,${level}}\\s`).test(line))
  return lines.slice(start, end === -1 ? undefined : end).join('\n')
}
