/** Repeated runs of several systems, in turns. */
import { medianRow, type BenchResult } from './result.js'

/** `times` runs of each system, in turns (A B C, A B C, ...), so a slow minute on the machine hits all of them. */
export async function repeated<S>(
  systems: readonly S[],
  times: number,
  run: (system: S) => Promise<BenchResult>,
): Promise<BenchResult[]> {
  const runs = systems.map((): BenchResult[] => [])
  for (let i = 0; i < times; i++) {
    for (const [index, system] of systems.entries()) runs[index]?.push(await run(system))
  }
  return runs.map(medianRow)
}
