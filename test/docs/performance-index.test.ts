/**
 * docs/performance/index.md: the bench commands it shows are what `npm run bench` accepts (options, workloads and
 * systems read from bench/run.ts and bench/systems/systems.ts), the profile loop summarizes a real CPU profile, and
 * the report's Targets table agrees with the figures of the table above it (ratios, thresholds, met or not).
 */
import { execFile } from 'node:child_process'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs, promisify } from 'node:util'

import { describe, expect, it } from 'vitest'

import { readDoc, tableUnder, type TableRow } from '../support/markdown-tables.js'
import { BENCH_SYSTEMS, benchOptions, repoSource } from './bench-facts.js'
import { docBlock, repoRoot, shellCommands } from './doc-blocks.js'

const PAGE = 'docs/performance/index.md'
const page = readDoc(PAGE)
const run = promisify(execFile)
const source = repoSource

// Prettier breaks the list over lines once it is long, with a trailing comma JSON does not take.
const WORKLOADS = JSON.parse(
  (/const WORKLOADS = (\[[^\]]*\])/.exec(source('bench/run.ts'))?.[1] ?? '[]')
    .replaceAll("'", '"')
    .replace(/,\s*\]$/, ']'),
) as string[]
const SYSTEMS = BENCH_SYSTEMS

/** The arguments after `npm run bench --`, checked by the bench's own option table. */
function benchArgs(command: string): ReturnType<typeof parseArgs<{ options: ReturnType<typeof benchOptions> }>> {
  const match = /^npm run bench(?: -- (.*))?$/.exec(command)
  expect(match, command).not.toBeNull()
  return parseArgs({ args: (match![1] ?? '').split(' ').filter(Boolean), options: benchOptions(), strict: true })
}

const cell = (row: TableRow, column: string): string => row[column] ?? ''
const num = (text: string): number => Number(text.replaceAll(',', ''))

describe('docs/performance/index.md', () => {
  it('finds what it checks in the bench sources', () => {
    expect(Object.keys(benchOptions())).toEqual(['quick', 'only', 'systems', 'clients', 'connections'])
    expect(WORKLOADS).toContain('echo')
    expect(SYSTEMS).toEqual(['switchyard', 'socketio', 'django', 'ws'])
  })

  it('bench-full: npm run bench builds, then runs bench/run.ts', () => {
    expect(shellCommands(docBlock('docs/performance/index.md', 'bench-full'))).toEqual(['npm run bench'])
    const manifest = JSON.parse(source('package.json')) as { scripts: Record<string, string> }
    expect(manifest.scripts.bench).toBe('npm run build && tsx bench/run.ts')
  })

  it('bench-options: every command is one the bench accepts, and the lists name every workload and system', () => {
    const commands = shellCommands(docBlock('docs/performance/index.md', 'bench-options'))
    expect(commands.length).toBe(5)
    for (const command of commands) {
      const { values } = benchArgs(command)
      for (const workload of String(values.only ?? '')
        .split(',')
        .filter(Boolean))
        expect(WORKLOADS).toContain(workload)
      for (const system of String(values.systems ?? '')
        .split(',')
        .filter(Boolean))
        expect(SYSTEMS).toContain(system)
      for (const size of String(values.clients ?? '')
        .split(',')
        .filter(Boolean))
        expect(Number(size)).toBeGreaterThan(0)
    }
    const listed = (option: string): string[] => {
      // The list item, with its continuation lines (indented two spaces).
      const lines = page.split('\n')
      const start = lines.findIndex((text) => text.startsWith(`- \`${option}\` takes`))
      let end = start + 1
      while (start >= 0 && lines[end]?.startsWith('  ') === true) end++
      const line = start < 0 ? '' : lines.slice(start, end).join(' ')
      return [...line.replace(/\(.*\)/, '').matchAll(/`([\w-]+)`/g)].map((match) => match[1]!).slice(1)
    }
    expect(listed('--only')).toEqual(WORKLOADS)
    expect(listed('--systems')).toEqual(SYSTEMS)
  })

  it('bench-profile: the servers take BENCH_SERVER_NODE_ARGS, and the loop summarizes a real profile', async () => {
    const [bench, loop] = shellCommands(docBlock('docs/performance/index.md', 'bench-profile'))
    const env = /^BENCH_SERVER_NODE_ARGS="([^"]+)" (npm run bench.*)$/.exec(bench ?? '')
    expect(env, bench).not.toBeNull()
    expect(source('bench/harness/server-process.ts')).toContain('process.env.BENCH_SERVER_NODE_ARGS')
    const { values } = benchArgs(env![2]!)
    expect(values).toMatchObject({ only: 'fanout', systems: 'switchyard' })
    expect(env![1]).toBe('--cpu-prof --cpu-prof-dir=/tmp/prof')

    // A profile of a small busy script stands in for a server's; the loop runs as shown, in its directory.
    const dir = await mkdtemp(join(tmpdir(), 'swy-prof-'))
    try {
      const busy = 'let x = 0; const end = Date.now() + 200; while (Date.now() < end) x += Math.sqrt(x + 1)'
      await run(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, '-e', busy])
      expect((await readdir(dir)).filter((file) => file.endsWith('.cpuprofile')).length).toBe(1)
      const { stdout } = await run('sh', ['-c', loop!.replaceAll('/tmp/prof', dir)], { cwd: repoRoot, timeout: 60_000 })
      expect(stdout).toMatch(/self/i)
      expect(stdout).toMatch(/total/i)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }, 90_000)

  it("the Targets table agrees with the run's figures", () => {
    const main = tableUnder(page, 'Throughput, latency and memory', PAGE)
    const targets = tableUnder(page, 'Targets', PAGE)
    const figure = (workload: string, system: string): string => {
      const row = main.find((r) => cell(r, 'workload') === workload)
      expect(row, workload).toBeDefined()
      return cell(row!, system)
    }
    const target = (label: string): TableRow => {
      const row = targets.find((r) => cell(r, 'target') === label)
      expect(row, label).toBeDefined()
      return row!
    }
    /** A ratio target: measured is ours / theirs, to 2 places (within what the rounded figures allow). */
    const checkRatio = (label: string, workload: string, theirs: string): void => {
      const row = target(label)
      const ratio = num(figure(workload, 'switchyard')) / num(figure(workload, theirs))
      const measured = Number(/^([\d.]+)x$/.exec(cell(row, 'measured'))?.[1])
      expect(Math.abs(measured - ratio), label).toBeLessThan(0.03)
      const [, op, limit] = /(<=|>=) ([\d.]+)x/.exec(label) ?? []
      const met = op === '<=' ? measured <= Number(limit) : measured >= Number(limit)
      expect(cell(row, 'met').replaceAll('*', ''), label).toBe(met ? 'yes' : 'no')
    }
    const ws = 'bare ws + redis pub/sub'
    for (const [label, workload] of [
      ['fanout 200 clients x 200, median of 3', 'fanout, 200 clients x 200, median of 3'],
      ['echo 50 conn x 200, median of 3', 'echo, 50 conn x 200, median of 3'],
    ] as const) {
      const unit = label.startsWith('echo') ? ['round trip', 'round trips/s'] : ['delivery', 'deliveries/s']
      checkRatio(`${label}: server CPU per unit <= 1.2x bare ws`, `${workload}: server CPU µs per ${unit[0]}`, ws)
      checkRatio(`${label}: ${unit[1]} >= 0.9x bare ws`, `${workload}: ${unit[1]}`, ws)
    }
    for (const workers of [1, 2]) {
      for (const failing of [0, 10]) {
        const label = `background ${workers} worker(s), ${failing} % failing once`
        const workload = `background, 20,000 msgs, ${workers} worker(s) x 16, ${failing} % failing once`
        checkRatio(`${label}: msgs/s >= 2x BullMQ`, `${workload}: msgs/s`, 'bullmq')
        checkRatio(`${label}: worker CPU per message <= 0.5x BullMQ`, `${workload}: worker CPU µs per msg`, 'bullmq')
      }
    }
    const paced = figure('fanout paced, 200 clients x 100 at 2000/s: p50 / p99 ms', 'switchyard').split(' / ')[1]
    expect(cell(target('fan-out paced: p99 <= 15 ms'), 'measured')).toBe(`${paced!} ms`)
    const [heap, rss] = figure('idle memory per connection (10,000 idle), heap / RSS KiB', 'switchyard').split(' / ')
    const heapTarget = target('idle connection: heap <= 4.5 KiB')
    expect(Number.parseFloat(cell(heapTarget, 'measured')).toFixed(1)).toBe(heap)
    expect(cell(heapTarget, 'met')).toBe(Number(heap) <= 4.5 ? 'yes' : '**no**')
    expect(Number.parseFloat(cell(target('idle connection: RSS <= 10 KiB'), 'measured')).toFixed(1)).toBe(rss)
    const lost = main
      .filter((r) => cell(r, 'workload').startsWith('fanout') && cell(r, 'workload').endsWith('lost / duplicated'))
      .map((r) => cell(r, 'switchyard'))
    expect(lost.length).toBe(5)
    expect(new Set(lost)).toEqual(new Set(['0 / 0']))
  })
})
