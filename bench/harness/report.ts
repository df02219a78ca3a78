/** The table, the JSON file and the SVG chart of a run. */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import type { BenchResult } from './result.js'

const COLUMNS: readonly { title: string; value: (r: BenchResult) => string }[] = [
  { title: 'system', value: (r) => r.label },
  { title: 'workload', value: (r) => r.workload },
  { title: 'size', value: (r) => r.params },
  { title: 'per s', value: (r) => `${Math.round(r.perSecond).toLocaleString('en-US')} ${r.unit}` },
  { title: 'p50 ms', value: (r) => r.p50Ms.toFixed(2) },
  { title: 'p99 ms', value: (r) => r.p99Ms.toFixed(2) },
  { title: 'lost', value: (r) => String(r.lost) },
  { title: 'dup', value: (r) => String(r.duplicated) },
  { title: 'server CPU ms', value: (r) => r.serverCpuMs.toFixed(0) },
  { title: 'CPU µs/unit', value: (r) => r.cpuUsPerUnit.toFixed(1) },
  { title: 'redis CPU ms', value: (r) => (r.redisCpuMs === null ? '-' : r.redisCpuMs.toFixed(0)) },
]

/** A plain-text table, one row per result, columns padded to their widest cell. */
export function formatTable(results: readonly BenchResult[]): string {
  const rows = [COLUMNS.map((c) => c.title), ...results.map((r) => COLUMNS.map((c) => c.value(r)))]
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)))
  const line = (row: readonly string[]): string =>
    row.map((cell, i) => (i < 3 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ')
  const [header = [], ...body] = rows
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n')
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`)
}

const BAR_HEIGHT = 22
const LABEL_WIDTH = 360
const BAR_WIDTH = 420

/** A horizontal bar chart of throughput, one bar per result, scaled per workload (units differ). */
export function renderSvgChart(results: readonly BenchResult[], title: string): string {
  const maxByWorkload = new Map<string, number>()
  for (const r of results) maxByWorkload.set(r.workload, Math.max(maxByWorkload.get(r.workload) ?? 0, r.perSecond))
  const height = 40 + results.length * (BAR_HEIGHT + 6)
  const bars = results.map((r, i) => {
    const y = 34 + i * (BAR_HEIGHT + 6)
    const max = maxByWorkload.get(r.workload) ?? 1
    const width = max > 0 ? Math.max(1, (r.perSecond / max) * BAR_WIDTH) : 1
    const fill = r.system === 'switchyard' ? '#2f6fb0' : '#9a9a9a'
    const label = `${r.label}, ${r.workload} ${r.params}`
    const value = `${Math.round(r.perSecond).toLocaleString('en-US')} ${r.unit}/s`
    return [
      `<text x="${LABEL_WIDTH - 8}" y="${y + 15}" text-anchor="end">${escapeXml(label)}</text>`,
      `<rect x="${LABEL_WIDTH}" y="${y}" width="${width.toFixed(1)}" height="${BAR_HEIGHT}" fill="${fill}"/>`,
      `<text x="${(LABEL_WIDTH + width + 6).toFixed(1)}" y="${y + 15}">${escapeXml(value)}</text>`,
    ].join('')
  })
  const totalWidth = LABEL_WIDTH + BAR_WIDTH + 200
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${totalWidth}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<text x="8" y="20" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
    ...bars,
    '</svg>',
    '',
  ].join('\n')
}

export interface WrittenReport {
  readonly jsonPath: string
  readonly svgPath: string
}

/** Writes `<dir>/<timestamp>.json` (results plus machine facts) and `<dir>/<timestamp>.svg`. */
export async function writeReport(
  dir: string,
  results: readonly BenchResult[],
  meta: Readonly<Record<string, unknown>>,
): Promise<WrittenReport> {
  await mkdir(dir, { recursive: true })
  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  const jsonPath = join(dir, `${stamp}.json`)
  const svgPath = join(dir, `${stamp}.svg`)
  await writeFile(jsonPath, `${JSON.stringify({ ...meta, results }, null, 2)}\n`)
  await writeFile(svgPath, renderSvgChart(results, `switchyard bench ${stamp}`))
  return { jsonPath, svgPath }
}
