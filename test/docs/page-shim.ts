import WebSocket from 'ws'

const globals = globalThis as { location?: { href: string }; WebSocket?: unknown }

/**
 * What a browser page at `pageUrl` has, for the client module run in Node: its `location`, and a `WebSocket` that
 * sends the page's Origin (and records each socket's URL in `urls`, when given). `leavePage` takes both away.
 */
export function actLikeAPageAt(pageUrl: string, urls?: string[]): void {
  const { origin } = new URL(pageUrl)
  globals.location = { href: pageUrl }
  globals.WebSocket = class PageWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { origin })
      urls?.push(url)
    }
  }
}

export function leavePage(): void {
  delete globals.location
  delete globals.WebSocket
}
