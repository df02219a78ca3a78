/** The showcase's pages and static files: plain HTML with inline module scripts, no build step. */
import { readFileSync } from 'node:fs'

import { HttpConsumer, route, type Route, clientModuleSource } from 'switchyard-channels'
import { methodOf } from './json-io.js'

/** Where the browser client is served; every page imports `connect` from here. */
export const CLIENT_MODULE_PATH = '/static/switchyard-client.js'

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  html: 'text/html; charset=utf-8',
  css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
}

/**
 * Serves one file read at startup (GET and HEAD).
 *
 * @example
 * ```ts
 * route('/', StaticFile.asApp({ body: readFileSync('index.html'), contentType: 'text/html; charset=utf-8' }))
 * ```
 */
export class StaticFile extends HttpConsumer {
  body!: Uint8Array
  contentType!: string

  override async handle(): Promise<void> {
    const method = methodOf(this.scope)
    if (method !== 'GET' && method !== 'HEAD') {
      await this.sendResponse(405, 'GET only', { headers: { 'content-type': 'text/plain', allow: 'GET, HEAD' } })
      return
    }
    await this.sendResponse(200, method === 'HEAD' ? '' : this.body, {
      headers: {
        'content-type': this.contentType,
        'x-content-type-options': 'nosniff',
        // Pages change with the code while you work on it; no stale copies.
        'cache-control': 'no-cache',
      },
    })
  }
}

/** Serves the Switchyard browser client as one ES module (bundled once per process, on first request). */
export class ClientModule extends HttpConsumer {
  override async handle(): Promise<void> {
    let source: string
    try {
      source = await clientModuleSource()
    } catch (err) {
      this.log.error({ err }, 'could not bundle the browser client')
      await this.sendResponse(500, 'could not bundle the browser client; see the server log', {
        headers: { 'content-type': 'text/plain' },
      })
      return
    }
    await this.sendResponse(200, source, {
      headers: {
        'content-type': CONTENT_TYPES.js ?? '',
        'x-content-type-options': 'nosniff',
        'cache-control': 'no-cache',
      },
    })
  }
}

/** A route serving `pages/<file>` at `path`. */
export function pageRoute(path: string, file: string): Route {
  const extension = file.slice(file.lastIndexOf('.') + 1)
  const body = readFileSync(new URL(`pages/${file}`, import.meta.url))
  return route(path, StaticFile.asApp({ body, contentType: CONTENT_TYPES[extension] ?? 'application/octet-stream' }))
}

/** The client module, the shared stylesheet and the progress pages' shared view module. */
export function assetRoutes(): Route[] {
  return [
    route(CLIENT_MODULE_PATH, ClientModule.asApp()),
    pageRoute('/static/showcase.css', 'showcase.css'),
    pageRoute('/static/job-view.js', 'job-view.js'),
  ]
}
