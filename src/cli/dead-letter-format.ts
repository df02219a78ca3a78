/** How `switchyard dead-letters` prints dead letters: an aligned table, a summary as JSON, one letter in full. */
import type { DeadLetter } from '../tasks/task-store.js'
import { formatTable, oneLine, printable } from './table.js'

/** Errors in the table are cut to this many characters; `show` prints them whole. */
export const ERROR_COLUMN_WIDTH = 60

/** A dead letter without its payload or stack: what `list` prints, as a table or as JSON. */
export interface DeadLetterSummary {
  readonly id: string
  readonly channel: string
  readonly taskId: string
  readonly attempts: number
  readonly firstAttemptAt: number
  readonly diedAt: number
  readonly error: string
}

/** Drops the message and the stack: listings never show payloads (they may hold personal data or secrets). */
export function summarize(letter: DeadLetter): DeadLetterSummary {
  const { id, channel, taskId, attempts, firstAttemptAt, diedAt, error } = letter
  return { id, channel, taskId, attempts, firstAttemptAt, diedAt, error }
}

/**
 * An aligned table, one dead letter a line, with a header: `ID  TASK ID  ATTEMPTS  DIED AT  ERROR` (and a CHANNEL
 * column first when listing several channels). Errors are flattened to one line and cut to 60 characters.
 *
 * @example
 * ```ts
 * formatDeadLetterTable([letter], { withChannel: false })
 * // ID   TASK ID  ATTEMPTS  DIED AT                   ERROR
 * // dl1  t-42     6         2025-01-01T00:00:00.000Z  Error: SMTP refused
 * ```
 */
export function formatDeadLetterTable(
  letters: readonly DeadLetter[],
  { withChannel }: { withChannel: boolean },
): string {
  const header = ['ID', 'TASK ID', 'ATTEMPTS', 'DIED AT', 'ERROR']
  const rows = letters.map((letter) => [
    oneLine(letter.id),
    oneLine(letter.taskId),
    String(letter.attempts),
    isoTime(letter.diedAt),
    truncate(oneLine(letter.error), ERROR_COLUMN_WIDTH),
  ])
  const table = withChannel
    ? [['CHANNEL', ...header], ...rows.map((row, index) => [oneLine(letters[index]?.channel ?? ''), ...row])]
    : [header, ...rows]
  return formatTable(table)
}

/** One dead letter in full, for people: its fields, the error with its stack, and the message as indented JSON. */
export function formatDeadLetter(letter: DeadLetter): string {
  const lines = [
    `id:             ${oneLine(letter.id)}`,
    `channel:        ${oneLine(letter.channel)}`,
    `task id:        ${oneLine(letter.taskId)}`,
    `attempts:       ${letter.attempts}`,
    `first attempt:  ${isoTime(letter.firstAttemptAt)}`,
    `died at:        ${isoTime(letter.diedAt)}`,
    `error:          ${printable(letter.error).replaceAll('\n', `\n${' '.repeat(16)}`)}`,
  ]
  if (letter.stack !== undefined && letter.stack !== '') {
    lines.push(
      'stack:',
      ...printable(letter.stack)
        .split('\n')
        .map((line) => `  ${line}`),
    )
  }
  lines.push(
    'message:',
    ...toJson(letter.message)
      .split('\n')
      .map((line) => `  ${line}`),
  )
  return `${lines.join('\n')}\n`
}

/**
 * JSON with two-space indentation where byte strings (msgpack bin, which messages may carry) become
 * `{ "$bytes": "<base64>" }` rather than JSON.stringify's object of numbered keys.
 */
export function toJson(value: unknown): string {
  return JSON.stringify(
    value,
    function (this: unknown, key: string, replaced: unknown): unknown {
      // `this[key]` is the value before Buffer#toJSON ran; Uint8Array has no toJSON at all.
      const original = (this as Record<string, unknown> | undefined)?.[key]
      if (original instanceof Uint8Array) return { $bytes: Buffer.from(original).toString('base64') }
      return replaced
    },
    2,
  )
}

/** Unix ms as ISO 8601, or the raw number when it is not a valid time (a corrupt entry must still print). */
function isoTime(ms: number): string {
  const date = new Date(ms)
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString()
}

function truncate(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`
}
