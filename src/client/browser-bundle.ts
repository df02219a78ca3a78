import { fileURLToPath } from 'node:url'

let cached: Promise<string> | undefined

/**
 * The client as one self-contained, minified browser ES module, for a server to serve to pages that have no
 * bundler (the showcase serves it at `/static/switchyard-client.js`). Built once per process with esbuild, which
 * is loaded only when this is first called. Works from the sources (tsx, vitest: bundles `index.ts`) and from the
 * published package (bundles the compiled `dist/src/client/index.js`), since the entry sits next to this file.
 *
 * @example
 * ```ts
 * const source = await clientModuleSource()
 * app.get('/static/switchyard-client.js', (_request, reply) => reply.type('text/javascript').send(source))
 * // in the page: <script type="module">import { connect } from '/static/switchyard-client.js'</script>
 * ```
 */
export function clientModuleSource(): Promise<string> {
  cached ??= buildClientModule().catch((error: unknown) => {
    cached = undefined // let a later call try again
    throw error
  })
  return cached
}

async function buildClientModule(): Promise<string> {
  const { build } = await import('esbuild')
  const extension = import.meta.url.endsWith('.ts') ? 'ts' : 'js'
  const result = await build({
    entryPoints: [fileURLToPath(new URL(`./index.${extension}`, import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    write: false,
    logLevel: 'silent',
  })
  const output = result.outputFiles[0]
  if (output === undefined) throw new Error('esbuild produced no output for the switchyard client')
  return output.text
}
