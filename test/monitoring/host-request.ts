// Requests over a real socket with a `Host` header of the test's choosing (fetch always sends the URL's own), as a
// browser on a DNS-rebound page sends them: connected to 127.0.0.1, naming evil.example.
import http from 'node:http'
import net from 'node:net'

export interface HostResponse {
  readonly status: number
  readonly headers: http.IncomingHttpHeaders
  readonly body: string
}

/** `method url` sent to the URL's address with `Host: host` (and `headers`); resolves with the whole response. */
export function requestWithHost(
  url: string,
  host: string,
  options: { readonly method?: string; readonly headers?: Record<string, string>; readonly body?: string } = {},
): Promise<HostResponse> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      { method: options.method ?? 'GET', headers: { ...options.headers, host }, agent: false },
      (response) => {
        const chunks: Buffer[] = []
        response.on('data', (chunk: Buffer) => chunks.push(chunk))
        response.on('end', () => {
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks).toString(),
          })
        })
        response.on('error', reject)
      },
    )
    request.on('error', reject)
    request.end(options.body)
  })
}

/** An HTTP/1.0 GET with no `Host` header at all; resolves with the status line's code. */
export function requestWithoutHost(url: string): Promise<number> {
  const { hostname, port, pathname } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => {
      socket.write(`GET ${pathname} HTTP/1.0\r\n\r\n`)
    })
    let received = ''
    socket.on('data', (chunk: Buffer) => (received += chunk.toString()))
    socket.on('end', () => {
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(received)?.[1]
      if (status === undefined) reject(new Error(`no status line in ${JSON.stringify(received.slice(0, 100))}`))
      else resolve(Number(status))
    })
    socket.on('error', reject)
  })
}
