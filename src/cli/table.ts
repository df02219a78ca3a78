/** Plain text for the CLI: aligned tables, counted nouns, and cells made safe for a terminal. */

/**
 * Rows (the first is the header) as aligned columns two spaces apart, one line each; the last column is not
 * padded, so lines carry no trailing spaces. Cells are printed as given: pass them through `oneLine` first when
 * they come from stored data.
 *
 * @example
 * ```ts
 * formatTable([['CHANNEL', 'BACKLOG'], ['emails', '12']])
 * // CHANNEL  BACKLOG
 * // emails   12
 * ```
 */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths = rows.reduce<number[]>(
    (max, row) => row.map((cell, column) => Math.max(max[column] ?? 0, cell.length)),
    [],
  )
  return rows
    .map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0))))
    .map((cells) => `${cells.join('  ')}\n`)
    .join('')
}

/** Whitespace runs become one space, other control characters (terminal escapes) become U+FFFD. */
export function oneLine(text: string): string {
  return printable(text.replace(/\s+/g, ' ').trim())
}

/** Keeps newlines and tabs; replaces other control characters so a stored string cannot drive the terminal. */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '\uFFFD')
}

/** `1 dead letter`, `2 dead letters`: a count and its noun, plural when the count is not one. */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`
}
