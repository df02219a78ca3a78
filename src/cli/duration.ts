const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const

const DURATION = /^([1-9]\d*)(ms|s|m|h|d)$/

/**
 * Parses a CLI duration: a positive whole number and one unit, `ms`, `s`, `m`, `h` or `d` (`30s`, `15m`, `2h`,
 * `7d`). Returns undefined for anything else: a bare number (a unit is required so `7` is never 7 ms by mistake),
 * zero (`purge --older-than 0s` would be a purge of everything without `--yes`), durations past
 * `Number.MAX_SAFE_INTEGER` ms.
 *
 * @example
 * ```ts
 * parseDurationMs('7d') // 604_800_000
 * parseDurationMs('7') // undefined
 * ```
 */
export function parseDurationMs(text: string): number | undefined {
  const match = DURATION.exec(text)
  if (match === null) return undefined
  const [, amount, unit] = match as unknown as [string, string, keyof typeof UNIT_MS]
  const ms = Number(amount) * UNIT_MS[unit]
  return Number.isSafeInteger(ms) ? ms : undefined
}
