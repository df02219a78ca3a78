import { request as httpRequest, type RequestOptions } from 'node:http'
import { request as httpsRequest } from 'node:https'

import { assertPublicTarget, parseWebhookUrl, publicOnlyLookup, type ResolveAll } from './safe-url.js'

export interface PostOptions {
  /** Aborts the request (the task's `ctx.signal`: its timeout, or the worker shutting down). */
  readonly signal: AbortSignal
  /** Skip the SSRF guard (`ALLOW_PRIVATE_WEBHOOKS=1`): for local testing only. */
  readonly allowPrivate: boolean
  readonly headers?: Readonly<Record<string, string>>
  /** DNS resolution, injectable for tests. */
  readonly resolveAll?: ResolveAll
}

/**
 * POSTs `body` (JSON text) to `url` and resolves to the response status; rejects on network errors, on abort, and
 * with `UnsafeUrlError` for a target the SSRF guard refuses.
 *
 * `node:http` rather than `fetch`, for two reasons: its `lookup` hook lets the guard check the addresses the socket
 * actually connects to (fetch would resolve the name again after our check, the DNS-rebinding window), and it never
 * follows redirects (fetch's default would let a public URL redirect to http://169.254.169.254/). The response body
 * is drained and ignored; no connection is kept alive.
 */
export async function postWebhook(rawUrl: string, body: string, options: PostOptions): Promise<number> {
  const url = parseWebhookUrl(rawUrl)
  if (!options.allowPrivate) await assertPublicTarget(url, options.resolveAll)
  const requestOptions: RequestOptions = {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      'user-agent': 'switchyard-showcase-webhooks',
      ...options.headers,
    },
    signal: options.signal,
    agent: false,
    ...(options.allowPrivate ? {} : { lookup: publicOnlyLookup(options.resolveAll) }),
  }
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest
  return await new Promise<number>((resolve, reject) => {
    const request = send(url, requestOptions, (response) => {
      response.resume()
      response.on('end', () => {
        resolve(response.statusCode ?? 0)
      })
      response.on('error', reject)
    })
    request.on('error', reject)
    request.end(body)
  })
}
