/**
 * The rules every coded error follows (STYLE.md, "Errors are values with codes"), as pure functions so that
 * `test/unit/error-codes.test.ts` can show they reject what breaks them.
 */

/** One coded error as the check sees it: its class name, its code, and where it was found. */
export interface CodedErrorEntry {
  /** An entry point (`switchyard-channels/client`) or the file of the error table. */
  readonly source: string
  readonly name: string
  /** `unknown`: a code of the wrong type is one of the things the check reports. */
  readonly code: unknown
}

/** `SWY_`, then upper-case words joined by single underscores. */
export const ERROR_CODE_PATTERN = /^SWY_[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$/

type ErrorClass = (new (...args: never[]) => Error) & { readonly code?: unknown }

/** The exports of `module` that are Error classes with a static `code`, as `[export name, class]`. */
export function codedErrorClasses(module: Record<string, unknown>): [string, ErrorClass][] {
  return Object.entries(module).filter(
    (entry): entry is [string, ErrorClass] =>
      typeof entry[1] === 'function' && entry[1].prototype instanceof Error && 'code' in entry[1],
  )
}

/** `codedErrorClasses(module)` as entries of `source`, named by their export name. */
export function codedErrorsOf(source: string, module: Record<string, unknown>): CodedErrorEntry[] {
  return codedErrorClasses(module).map(([name, type]) => ({ source, name, code: type.code }))
}

const describe = (entry: CodedErrorEntry): string => `${entry.name} (${String(entry.code)}) in ${entry.source}`

/**
 * One error seen from several places: the same name and code, each place once. The browser client cannot import
 * `src/errors.ts` (it ships alone), so it declares its own `ConnectionClosedError` with the server's code and name.
 */
function isOneError(group: readonly CodedErrorEntry[]): boolean {
  const [first] = group
  return (
    group.every((entry) => entry.code === first?.code && entry.name === first?.name) &&
    new Set(group.map((entry) => entry.source)).size === group.length
  )
}

function groupBy(entries: readonly CodedErrorEntry[], key: (entry: CodedErrorEntry) => string) {
  const groups = new Map<string, CodedErrorEntry[]>()
  for (const entry of entries) groups.set(key(entry), [...(groups.get(key(entry)) ?? []), entry])
  return groups
}

/**
 * What breaks the rules in `entries`, one sentence each (empty when nothing does): a code outside
 * `ERROR_CODE_PATTERN`, a code two different errors carry, a class name two different errors use, or one error
 * listed twice in the same place (a duplicated table row).
 */
export function errorCodeProblems(entries: readonly CodedErrorEntry[]): string[] {
  const problems: string[] = []
  for (const entry of entries) {
    if (typeof entry.code !== 'string' || !ERROR_CODE_PATTERN.test(entry.code)) {
      problems.push(`${describe(entry)}: the code does not match ${String(ERROR_CODE_PATTERN)}`)
    }
  }
  for (const [code, group] of groupBy(entries, (entry) => String(entry.code))) {
    if (!isOneError(group))
      problems.push(`code ${code} is used ${group.length} times: ${group.map(describe).join(', ')}`)
  }
  for (const [name, group] of groupBy(entries, (entry) => entry.name)) {
    if (!isOneError(group))
      problems.push(`class ${name} is used ${group.length} times: ${group.map(describe).join(', ')}`)
  }
  return problems
}

/** `entries` as sorted `code name` lines, each error once: what two lists of errors are compared by. */
export function errorList(entries: readonly CodedErrorEntry[]): string[] {
  return [...new Set(entries.map((entry) => `${String(entry.code)} ${entry.name}`))].sort()
}
