/**
 * prom-client, loaded by the first `createMetrics()` rather than with the package: the root entry re-exports the
 * monitoring API for existing imports, and an app that never creates metrics should not pay for loading it.
 * prom-client is CommonJS, so loading it here is synchronous.
 */
import { createRequire } from 'node:module'

type PromClient = typeof import('prom-client')

let loaded: PromClient | undefined

export function promClient(): PromClient {
  loaded ??= createRequire(import.meta.url)('prom-client') as PromClient
  return loaded
}
