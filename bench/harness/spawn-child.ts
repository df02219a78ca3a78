/**
 * Child processes of the bench run as plain JavaScript under `node`, the way users run a server: each entry script
 * (a system's server, a publisher, a load generator) is bundled with its bench helpers into `bench/.build/`, while
 * every package stays an import. Switchyard itself is imported as `switchyard-channels`, which Node resolves (a
 * package importing its own name) to the built package in `dist/`, so `npm run build` must have run (`npm run
 * bench` does it first). Nothing runs under tsx: its esbuild transform (`keepNames` among others) is a cost users
 * of the built package never pay, and the peers (ws, Socket.IO) are measured the same way side by side.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { basename } from 'node:path'
import { fileURLToPath } from 'node:url'

import { buildSync } from 'esbuild'

const OUT_DIR = fileURLToPath(new URL('../.build/', import.meta.url))
const BUILT_PACKAGE = fileURLToPath(new URL('../../dist/src/index.js', import.meta.url))

const compiled = new Map<string, string>()

/**
 * Starts a bench entry script under `node` with an IPC channel; stdout is discarded, stderr passes through.
 * `nodeArgs` go to node itself (`--expose-gc`, `--cpu-prof`).
 */
export function spawnChild(
  script: URL,
  env: Readonly<Record<string, string>> = {},
  nodeArgs: readonly string[] = [],
): ChildProcess {
  // BENCH_NODE_ARGS (space-separated, e.g. `--trace-gc`) and BENCH_CHILD_STDOUT=1 are for looking inside a child.
  const extraArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== '')
  return spawn(process.execPath, [...nodeArgs, ...extraArgs, compiledScript(script)], {
    stdio: ['ignore', process.env.BENCH_CHILD_STDOUT === '1' ? 'inherit' : 'ignore', 'inherit', 'ipc'],
    env: { ...process.env, SWITCHYARD_LOG_LEVEL: 'silent', ...env },
  })
}

/** The JavaScript file to run for the TypeScript entry `script`, bundled once per bench run. */
export function compiledScript(script: URL): string {
  const source = fileURLToPath(script)
  const known = compiled.get(source)
  if (known !== undefined) return known
  if (!existsSync(BUILT_PACKAGE)) {
    throw new Error(`${BUILT_PACKAGE} is missing: the bench measures the built package, run \`npm run build\` first`)
  }
  mkdirSync(OUT_DIR, { recursive: true })
  const outfile = `${OUT_DIR}${basename(source, '.ts')}.js`
  buildSync({
    entryPoints: [source],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Packages are resolved by Node at run time, from node_modules or (for switchyard-channels) from dist/.
    packages: 'external',
    external: ['switchyard-channels', 'switchyard-channels/*'],
    // tsconfig.json maps switchyard-channels to the sources for type checking; the build config does not.
    tsconfig: fileURLToPath(new URL('../../tsconfig.build.json', import.meta.url)),
    logLevel: 'warning',
  })
  compiled.set(source, outfile)
  return outfile
}
