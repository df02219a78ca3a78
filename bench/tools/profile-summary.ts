/**
 * `npx tsx bench/tools/profile-summary.ts <file.cpuprofile> [--top 25]`: the functions a V8 CPU profile spent its
 * samples in, by self time and by total time (self plus callees), as plain text. Profiles come from
 * `BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" npm run bench -- --only fanout`, for instance.
 */
import { readFile } from 'node:fs/promises'
import { relative } from 'node:path'
import { parseArgs } from 'node:util'

interface ProfileNode {
  readonly id: number
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
  readonly children?: readonly number[]
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[]
  readonly samples: readonly number[]
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame
  const file = url.startsWith('file://') ? relative(process.cwd(), new URL(url).pathname) : url
  return `${functionName || '(anonymous)'} ${file ? `${file}:${lineNumber + 1}` : ''}`.trim()
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '25' } },
})
const [path] = positionals
if (path === undefined) throw new Error('usage: profile-summary <file.cpuprofile> [--top N]')
const profile = JSON.parse(await readFile(path, 'utf8')) as CpuProfile
const top = Number(values.top)

const byId = new Map(profile.nodes.map((node) => [node.id, node]))
const parent = new Map<number, number>()
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)
const hits = new Map<number, number>()
for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1)

const self = new Map<string, number>()
const total = new Map<string, number>()
let busy = 0
for (const [id, count] of hits) {
  const node = byId.get(id)
  if (node === undefined) continue
  const name = label(node)
  if (name.startsWith('(idle)')) continue
  busy += count
  self.set(name, (self.get(name) ?? 0) + count)
  // Each function counts once per sample however often it recurses.
  const seen = new Set<string>()
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const frame = byId.get(at)
    if (frame === undefined) break
    const frameName = label(frame)
    if (seen.has(frameName)) continue
    seen.add(frameName)
    total.set(frameName, (total.get(frameName) ?? 0) + count)
  }
}

const print = (title: string, counts: Map<string, number>): void => {
  console.log(`${title} (% of ${busy} busy samples)`)
  for (const [name, count] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${((count / busy) * 100).toFixed(1).padStart(6)}%  ${name}`)
  }
}
print('self time', self)
console.log()
print('total time', total)
