/**
 * The absolute ws:// or wss:// URL for `url`. Relative URLs resolve against `base`, the page's location by
 * default, and http/https map to ws/wss, so `/ws/chat/lobby/` works on any host, with or without TLS.
 */
export function resolveUrl(url: string, base = (globalThis as { location?: { href: string } }).location?.href): string {
  try {
    const resolved = new URL(url, base)
    // http: and ws: are both special schemes in the URL standard, so this assignment is allowed.
    resolved.protocol = resolved.protocol.replace(/^http/, 'ws')
    if (/^wss?:$/.test(resolved.protocol)) return resolved.href
  } catch {
    // Relative without a base (outside browsers) or unparsable: reported below.
  }
  throw new TypeError(`Expected a ws(s) or http(s) URL, or a path relative to the page, got "${url}"`)
}
