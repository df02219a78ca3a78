/**
 * docs/reference/metrics.md against the code: every metric `createMetrics()` registers (name, type, label names)
 * and every `node:diagnostics_channel` channel of src/diagnostics.ts.
 */
import { hasSubscribers } from 'node:diagnostics_channel'
import { readFileSync } from 'node:fs'

import { afterEach, describe, expect, it } from 'vitest'

import { InMemoryChannelLayer } from '../../src/index.js'
import { BacklogMonitor, createMetrics, type SwitchyardMetrics } from '../../src/monitoring/index.js'
import { firstCodeSpan, readDoc, tableUnder } from '../support/markdown-tables.js'

const PAGE = 'docs/reference/metrics.md'

/** The code spans of a cell: the label names of the labels column (their values are plain text). */
const codeSpans = (cell: string | undefined): string[] => [...(cell ?? '').matchAll(/`([^`]*)`/g)].map((m) => m[1]!)

let open: SwitchyardMetrics | undefined
let layer: InMemoryChannelLayer | undefined

afterEach(async () => {
  open?.close()
  open = undefined
  await layer?.close()
  layer = undefined
})

/** Every Switchyard metric, threshold gauges included: `name type label,label`, sorted. */
async function registeredMetrics(): Promise<string[]> {
  layer = new InMemoryChannelLayer()
  const backlog = new BacklogMonitor({ layer, thresholds: { 'jobs.*': 10 } })
  open = createMetrics({ layer, backlog, defaultMetrics: false })
  const json = await open.registry.getMetricsAsJSON()
  const labels = new Map(
    open.registry.getMetricsAsArray().map((metric) => {
      const names = (metric as unknown as { labelNames?: readonly string[] }).labelNames ?? []
      return [metric.name, [...names].sort().join(',')]
    }),
  )
  return json.map((metric) => `${metric.name} ${metric.type} ${labels.get(metric.name) ?? ''}`.trim()).sort()
}

describe(PAGE, () => {
  it('lists every metric createMetrics registers, with its type and labels', async () => {
    const documented = tableUnder(readDoc(PAGE), 'Prometheus metrics', PAGE)
      .map((row) => {
        const labelNames = codeSpans(row.labels).sort().join(',')
        return `${firstCodeSpan(row.metric) ?? row.metric} ${row.type} ${labelNames}`.trim()
      })
      .sort()
    const registered = await registeredMetrics()
    expect(registered.length).toBeGreaterThanOrEqual(20)
    expect(documented).toEqual(registered)
  })

  it('says that prom-client default metrics come with defaultMetrics', async () => {
    layer = new InMemoryChannelLayer()
    open = createMetrics({ layer })
    const names = open.registry.getMetricsAsArray().map((metric) => metric.name)
    expect(names.some((name) => name.startsWith('nodejs_'))).toBe(true)
    expect(readDoc(PAGE)).toMatch(/`defaultMetrics: true`[\s\S]*`process_\*`[\s\S]*`nodejs_\*`/)
  })

  it('lists every diagnostics channel of src/diagnostics.ts, each one createMetrics subscribes to', () => {
    const source = readFileSync(new URL('../../src/diagnostics.ts', import.meta.url), 'utf8')
    const published = [...new Set([...source.matchAll(/'(switchyard:[a-z-]+)'/g)].map((m) => m[1]!))].sort()
    const documented = tableUnder(readDoc(PAGE), 'Diagnostics channels', PAGE)
      .map((row) => firstCodeSpan(row.channel) ?? row.channel)
      .sort()
    expect(published.length).toBeGreaterThanOrEqual(5)
    expect(documented).toEqual(published)
    // The names are the real channels: metrics subscribe to each while open, and let go on close.
    open = createMetrics({ defaultMetrics: false })
    expect(published.filter((name) => !hasSubscribers(name))).toEqual([])
    open.close()
    open = undefined
    expect(published.filter((name) => hasSubscribers(name))).toEqual([])
  })
})
