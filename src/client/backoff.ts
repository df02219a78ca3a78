import type { ReconnectOptions } from './options.js'

/**
 * The wait before reconnect attempt `attempt` (0 for the first after a drop): exponential, capped, then jittered
 * uniformly by ±`jitter` so clients dropped together (a server restart) do not return together.
 *
 * `base = min(maxDelayMs, initialDelayMs * factor ** attempt)`, `delay = base * (1 + jitter * (2 * random() - 1))`.
 * `maxDelayMs` caps the base, so the longest wait is `maxDelayMs * (1 + jitter)` (15 s with the defaults);
 * jittering after the cap keeps the spread even at the cap instead of piling clients onto one value.
 *
 * @example
 * ```ts
 * reconnectDelayMs(0, DEFAULT_RECONNECT_OPTIONS, Math.random) // 250..750
 * reconnectDelayMs(10, DEFAULT_RECONNECT_OPTIONS, Math.random) // 5_000..15_000
 * ```
 */
export function reconnectDelayMs(
  attempt: number,
  options: Pick<ReconnectOptions, 'initialDelayMs' | 'factor' | 'maxDelayMs' | 'jitter'>,
  random: () => number,
): number {
  const base = Math.min(options.maxDelayMs, options.initialDelayMs * options.factor ** attempt)
  return Math.round(base * (1 + options.jitter * (2 * random() - 1)))
}
