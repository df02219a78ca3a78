/** Percentiles and rates for benchmark results. */

/** The `p`th percentile (0-100) by nearest rank; NaN for no samples. Sorts a copy. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN
  const sorted = Float64Array.from(samples).sort()
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[rank] ?? Number.NaN
}

export interface LatencySummary {
  readonly p50Ms: number
  readonly p99Ms: number
}

export function summarize(samples: readonly number[]): LatencySummary {
  return { p50Ms: percentile(samples, 50), p99Ms: percentile(samples, 99) }
}

/** Splits `total` into `parts` near-equal non-negative integers (the first ones get the remainder). */
export function split(total: number, parts: number): number[] {
  const base = Math.floor(total / parts)
  return Array.from({ length: parts }, (_, i) => base + (i < total % parts ? 1 : 0))
}

/** The middle value (the upper one of two); NaN for none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN
  return Float64Array.from(values).sort()[values.length >> 1] ?? Number.NaN
}
