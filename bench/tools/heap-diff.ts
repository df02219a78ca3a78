/**
 * `npx tsx bench/tools/heap-diff.ts <before.heapsnapshot> <after.heapsnapshot> [--per 1000] [--top 30]`: what the
 * heap gained between two snapshots, by kind of object (a constructor, a closure's function name, `(array)`,
 * `(string)`, ...), as count and bytes per unit (`--per`: the connections opened in between). Snapshots come from
 * `BENCH_HEAP_SNAPSHOT_DIR=/tmp/snap npm run bench -- --only memory --systems switchyard --connections 1000`: the
 * server writes one after each memory reading, so the first two of its pid are before and after.
 */
import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'

interface Snapshot {
  readonly snapshot: { readonly meta: { readonly node_fields: string[]; readonly node_types: [string[]] } }
  readonly nodes: number[]
  readonly strings: string[]
}

interface Tally {
  count: number
  bytes: number
}

/** Live objects by kind: `Name` for objects, `Name()` for closures, `(type)` for the rest. */
async function tally(path: string): Promise<Map<string, Tally>> {
  const data = JSON.parse(await readFile(path, 'utf8')) as Snapshot
  const fields = data.snapshot.meta.node_fields
  const types = data.snapshot.meta.node_types[0]
  const stride = fields.length
  const typeAt = fields.indexOf('type')
  const nameAt = fields.indexOf('name')
  const sizeAt = fields.indexOf('self_size')
  const kinds = new Map<string, Tally>()
  for (let i = 0; i < data.nodes.length; i += stride) {
    const type = types[data.nodes[i + typeAt] ?? 0] ?? 'unknown'
    const name = data.strings[data.nodes[i + nameAt] ?? 0] ?? ''
    const kind = type === 'object' ? name : type === 'closure' ? `${name || '(anonymous)'}()` : `(${type})`
    const entry = kinds.get(kind) ?? { count: 0, bytes: 0 }
    entry.count++
    entry.bytes += data.nodes[i + sizeAt] ?? 0
    kinds.set(kind, entry)
  }
  return kinds
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { per: { type: 'string', default: '1' }, top: { type: 'string', default: '30' } },
})
const [beforePath, afterPath] = positionals
if (beforePath === undefined || afterPath === undefined) {
  throw new Error('usage: heap-diff <before.heapsnapshot> <after.heapsnapshot> [--per N] [--top N]')
}
const per = Number(values.per)
const before = await tally(beforePath)
const after = await tally(afterPath)
const rows = [...after].map(([kind, { count, bytes }]) => {
  const was = before.get(kind) ?? { count: 0, bytes: 0 }
  return { kind, count: (count - was.count) / per, bytes: (bytes - was.bytes) / per }
})
rows.sort((a, b) => b.bytes - a.bytes)
const total = rows.reduce((sum, row) => sum + row.bytes, 0)
console.log(`${'bytes'.padStart(9)} ${'count'.padStart(8)}  kind (per ${per})`)
for (const row of rows.slice(0, Number(values.top))) {
  console.log(`${row.bytes.toFixed(0).padStart(9)} ${row.count.toFixed(2).padStart(8)}  ${row.kind}`)
}
console.log(`${total.toFixed(0).padStart(9)} ${''.padStart(8)}  total`)
