import { readFile } from 'node:fs/promises'

/** Written next to this module by `npm run build:client` (esbuild, at build time); shipped in the package. */
const BUNDLE_URL = new URL('./switchyard-client.bundle.js', import.meta.url)

let cached: Promise<string> | undefined

/**
 * The client as one self-contained, minified browser ES module, for a server to serve to pages that have no
 * bundler (the showcase serves it at `/static/switchyard-client.js`). It is bundled when the package is built, so
 * nothing compiles at run time: this reads the file once per process and keeps its text.
 *
 * @example
 * ```ts
 * const source = await clientModuleSource()
 * app.get('/static/switchyard-client.js', (_request, reply) => reply.type('text/javascript').send(source))
 * // in the page: <script type="module">import { connect } from '/static/switchyard-client.js'</script>
 * ```
 */
export function clientModuleSource(): Promise<string> {
  cached ??= readFile(BUNDLE_URL, 'utf8').catch((error: unknown) => {
    cached = undefined // let a later call try again
    throw new Error(
      `The browser client bundle is missing at ${BUNDLE_URL.pathname}; in a checkout of the repository, ` +
        'run `npm run build:client` (npm install does it)',
      { cause: error },
    )
  })
  return cached
}
