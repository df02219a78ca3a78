import { Cron } from 'croner'

/** Parses a cron expression (throws on a bad one); croner does the parsing, never our code. */
export function parseCron(cron: string, timezone: string): Cron {
  // No callback: croner starts no timer, it only computes dates.
  return new Cron(cron, { timezone, paused: true })
}
