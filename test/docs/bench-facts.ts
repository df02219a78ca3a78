/** What the performance pages' tests check their commands against: the bench's own option table and names. */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

import { repoRoot } from './doc-blocks.js'

/** A file of the repository, as text. */
export const repoSource = (path: string): string => readFileSync(join(repoRoot, path), 'utf8')

/** The options bench/run.ts's parseArgs declares, with their types. */
export function benchOptions(): Record<string, { type: 'string' | 'boolean' }> {
  const block = /parseArgs\(\{\s*options: \{([\s\S]*?)\n {4}\},/.exec(repoSource('bench/run.ts'))?.[1] ?? ''
  const options: Record<string, { type: 'string' | 'boolean' }> = {}
  for (const match of block.matchAll(/(\w+): \{ type: '(string|boolean)'/g)) {
    options[match[1]!] = { type: match[2] as 'string' | 'boolean' }
  }
  return options
}

/** The systems `--systems` accepts (bench/systems/systems.ts). */
export const BENCH_SYSTEMS: readonly string[] = [
  ...(/export const SYSTEMS = \{([\s\S]*?)\n\}/.exec(repoSource('bench/systems/systems.ts'))?.[1] ?? '').matchAll(
    /^ {2}(\w+)[,:]/gm,
  ),
].map((match) => match[1]!)
