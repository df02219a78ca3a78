import { readFileSync } from 'node:fs'
import { join } from 'node:path'

import { repoRoot } from './consumer-project.js'

const readme = (): string => readFileSync(join(repoRoot, 'README.md'), 'utf8')

/** Every fenced code block of the README, without its fences. */
export function readmeCodeBlocks(): string[] {
  return [...readme().matchAll(/^```[a-z]*\n([\s\S]*?)^```$/gm)].map((match) => match[1] ?? '')
}

/** The README's code block whose first line is `firstLine` (`// app.ts`): the file a user copies, verbatim. */
export function readmeFile(firstLine: string): string {
  const found = readmeCodeBlocks().filter((block) => block.startsWith(`${firstLine}\n`))
  if (found.length !== 1) throw new Error(`README.md has ${found.length} code blocks starting with ${firstLine}`)
  return found[0]!
}

/** The commands of the README's shell block that contains `marker`, one per line, comments removed. */
export function readmeCommands(marker: string): string[] {
  const found = readmeCodeBlocks().filter((block) => block.includes(marker) && /^(npx|export|npm) /m.test(block))
  if (found.length !== 1) throw new Error(`README.md has ${found.length} shell blocks containing ${marker}`)
  return found[0]!
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line !== '')
}
