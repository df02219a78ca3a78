import { describe, expect, it } from 'vitest'

import type { Application, Headers, OutputEvent } from '../../../src/application.js'
import { InvalidOptionError } from '../../../src/errors.js'
import { isSameDomain, parseOrigin } from '../../../src/middleware/origin-patterns.js'
import { AllowedHostsOriginValidator, OriginValidator } from '../../../src/middleware/origin-validator.js'
import { websocketDenier } from '../../../src/middleware/websocket-denier.js'
import { isPathRouting } from '../../../src/routing/path-routing.js'
import { URLRouter } from '../../../src/routing/url-router.js'
import type { Logger } from '../../../src/logger.js'
import { captureLogs, connection, deepFreeze, httpScope, recorder, wsScope } from '../routing/fakes.js'

/** A consumer that accepts every connection. */
const accepting: Application = async (_scope, receive, send) => {
  const event = await receive()
  if (event.type === 'websocket.connect') await send({ type: 'websocket.accept' })
}

/** Runs `app` for a WebSocket handshake with these headers and returns the first event it sends. */
async function handshake(app: Application, headers: Headers, logger?: Logger): Promise<OutputEvent | undefined> {
  const { receive, send, sent } = connection([{ type: 'websocket.connect' }])
  await app(deepFreeze(wsScope('/', { headers, logger })), receive, send)
  return sent[0]
}

const origin = (value: string): Headers => [['origin', value]]
const ACCEPTED = { type: 'websocket.accept' }
const DENIED = { type: 'websocket.close' }

// Channels' tests/security/test_websocket.py::test_origin_validator, case by case.
describe("OriginValidator: Channels' test_origin_validator", () => {
  it('["allowed-domain.com"] accepts http://allowed-domain.com and rejects http://bad-domain.com', async () => {
    const app = OriginValidator(accepting, ['allowed-domain.com'])
    expect(await handshake(app, origin('http://allowed-domain.com'))).toEqual(ACCEPTED)
    expect(await handshake(app, origin('http://bad-domain.com'))).toEqual(DENIED)
  })

  it('["*.allowed-domain.com"] never allows http://allowed-domain.com: refused when built, with advice', () => {
    // Channels accepts the pattern and it never matches anything; we say so at startup instead.
    expect(() => OriginValidator(accepting, ['*.allowed-domain.com'])).toThrow(InvalidOptionError)
    expect(() => OriginValidator(accepting, ['*.allowed-domain.com'])).toThrow(/".example.com" for a domain/)
  })

  it('[".allowed-domain.com"] accepts http://www.allowed-domain.com', async () => {
    const app = OriginValidator(accepting, ['.allowed-domain.com'])
    expect(await handshake(app, origin('http://www.allowed-domain.com'))).toEqual(ACCEPTED)
  })

  it('["http://allowed-domain.com"] accepts http://allowed-domain.com, rejects https://bad-domain.com:443', async () => {
    const app = OriginValidator(accepting, ['http://allowed-domain.com'])
    expect(await handshake(app, origin('http://allowed-domain.com'))).toEqual(ACCEPTED)
    expect(await handshake(app, origin('https://bad-domain.com:443'))).toEqual(DENIED)
  })

  it('["*"] accepts a request without an Origin header', async () => {
    expect(await handshake(OriginValidator(accepting, ['*']), [])).toEqual(ACCEPTED)
  })

  it('[] rejects a request without an Origin header', async () => {
    expect(await handshake(OriginValidator(accepting, []), [])).toEqual(DENIED)
  })

  it('[".allowed-domain.com"] rejects the Origins "" and "something-invalid"', async () => {
    const app = OriginValidator(accepting, ['.allowed-domain.com'])
    expect(await handshake(app, origin(''))).toEqual(DENIED)
    expect(await handshake(app, origin('something-invalid'))).toEqual(DENIED)
  })
})

describe('OriginValidator: matching rules', () => {
  it('compares scheme, port (with defaults) and domain for patterns with a scheme', async () => {
    const app = OriginValidator(accepting, ['https://example.com:8443', 'http://plain.example', 'https://.sub.example'])
    expect(await handshake(app, origin('https://example.com:8443'))).toEqual(ACCEPTED)
    expect(await handshake(app, origin('https://example.com'))).toEqual(DENIED)
    expect(await handshake(app, origin('http://example.com:8443'))).toEqual(DENIED)
    expect(await handshake(app, origin('http://plain.example:80'))).toEqual(ACCEPTED)
    expect(await handshake(app, origin('http://plain.example:8080'))).toEqual(DENIED)
    expect(await handshake(app, origin('https://plain.example'))).toEqual(DENIED)
    expect(await handshake(app, origin('https://a.b.sub.example'))).toEqual(ACCEPTED)
    expect(await handshake(app, origin('https://sub.example'))).toEqual(ACCEPTED)
    expect(await handshake(app, origin('https://notsub.example'))).toEqual(DENIED)
  })

  it('ignores the port and scheme for host patterns, and compares hosts case-insensitively and as punycode', async () => {
    const app = OriginValidator(accepting, ['Example.COM', 'bücher.de', '[::1]'])
    expect(await handshake(app, origin('https://example.com:9999'))).toEqual(ACCEPTED)
    expect(await handshake(app, origin('http://EXAMPLE.com'))).toEqual(ACCEPTED)
    expect(await handshake(app, origin('https://www.example.com'))).toEqual(DENIED)
    expect(await handshake(app, origin('https://xn--bcher-kva.de'))).toEqual(ACCEPTED)
    expect(await handshake(app, origin('http://[::1]:3000'))).toEqual(ACCEPTED)
  })

  it('rejects "null" origins (sandboxed frames, file:) and several Origin headers', async () => {
    const app = OriginValidator(accepting, ['example.com'])
    expect(await handshake(app, origin('null'))).toEqual(DENIED)
    expect(await handshake(app, origin('file:///etc/passwd'))).toEqual(DENIED)
    expect(
      await handshake(app, [
        ['origin', 'https://example.com'],
        ['origin', 'https://evil.example'],
      ]),
    ).toEqual(DENIED)
    expect(await handshake(OriginValidator(accepting, ['*']), origin('null'))).toEqual(ACCEPTED)
  })

  it('logs a rejection at info level with the origin and why, and nothing else from the request', async () => {
    const { logger, lines } = captureLogs()
    const app = OriginValidator(accepting, ['example.com'])
    const headers: Headers = [
      ['origin', 'https://evil.example'],
      ['cookie', 'session=secret'],
    ]
    expect(await handshake(app, headers, logger)).toEqual(DENIED)
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({
      level: 30,
      msg: 'websocket origin rejected',
      origin: 'https://evil.example',
      reason: 'Origin https://evil.example:443 is not in allowedOrigins',
    })
    expect(JSON.stringify(lines)).not.toContain('secret')
  })

  it.each([
    [[], 'no Origin header: browsers always send one; a Node client must set it (new WebSocket(url, { origin }))'],
    [
      [['origin', 'http://127.0.0.1:3000']],
      'Origin http://127.0.0.1:3000 does not match Host 127.0.0.1:8000: a page served from another host or port ' +
        'needs AllowedHostsOriginValidator(app, [its origin])',
    ],
    [
      [
        ['origin', 'http://127.0.0.1:8000'],
        ['origin', 'http://127.0.0.1:8000'],
      ],
      'several Origin headers',
    ],
    [[['origin', 'null']], 'the Origin header is not a URL origin'],
  ] as const)('says why AllowedHostsOriginValidator refused %j', async (origins, reason) => {
    const { logger, lines } = captureLogs()
    const app = AllowedHostsOriginValidator(accepting)
    const headers: Headers = [
      ['host', '127.0.0.1:8000'],
      ...(origins as readonly (readonly [string, string])[]).map(([name, value]) => [name, value] as [string, string]),
    ]
    expect(await handshake(app, headers, logger)).toEqual(DENIED)
    expect(lines).toEqual([expect.objectContaining({ level: 30, msg: 'websocket origin rejected', reason })])
  })

  it('lets http scopes through unchanged, whatever their Origin', async () => {
    const { app, last } = recorder()
    const scope = deepFreeze(httpScope('/', { headers: origin('https://evil.example') }))
    const { receive, send } = connection([])
    await OriginValidator(app('http'), ['example.com'])(scope, receive, send)
    expect(last().scope).toEqual(scope)
  })

  it('refuses bad patterns when built', () => {
    expect(() => OriginValidator(accepting, ['localhost:8000'])).toThrow(/add the scheme/)
    expect(() => OriginValidator(accepting, ['https://'])).toThrow(InvalidOptionError)
    expect(() => OriginValidator(accepting, ['example.com/path'])).toThrow('Expected `allowedOrigins[0]`')
    expect(() => OriginValidator(accepting, [42 as never])).toThrow(InvalidOptionError)
    expect(() => OriginValidator(accepting, ['*', 'localhost:8000'])).toThrow('Expected `allowedOrigins[1]`')
    expect(() => OriginValidator(accepting, 'example.com' as never)).toThrow(InvalidOptionError)
    expect(() => OriginValidator('app' as never, ['*'])).toThrow('Expected `app`')
  })

  it('keeps a nested URLRouter nestable', () => {
    expect(isPathRouting(OriginValidator(URLRouter([]), ['*']))).toBe(true)
  })
})

describe('AllowedHostsOriginValidator', () => {
  const request = (originValue: string | undefined, host: string | undefined): Headers => [
    ...(originValue === undefined ? [] : [['origin', originValue] as const]),
    ...(host === undefined ? [] : [['host', host] as const]),
  ]

  it('by default accepts only an Origin naming the host the request reached', async () => {
    const app = AllowedHostsOriginValidator(accepting)
    expect(await handshake(app, request('https://example.com', 'example.com'))).toEqual(ACCEPTED)
    expect(await handshake(app, request('https://example.com', 'example.com:443'))).toEqual(ACCEPTED)
    expect(await handshake(app, request('http://localhost:3000', 'localhost:3000'))).toEqual(ACCEPTED)
    expect(await handshake(app, request('http://[::1]:3000', '[::1]:3000'))).toEqual(ACCEPTED)
    expect(await handshake(app, request('https://Example.com', 'EXAMPLE.COM'))).toEqual(ACCEPTED)

    expect(await handshake(app, request('https://evil.example', 'example.com'))).toEqual(DENIED)
    expect(await handshake(app, request('http://localhost:3001', 'localhost:3000'))).toEqual(DENIED)
    expect(await handshake(app, request('https://example.com', 'example.com:80'))).toEqual(DENIED)
    expect(await handshake(app, request('https://www.example.com', 'example.com'))).toEqual(DENIED)
    expect(await handshake(app, request('https://good.example', 'evil.example@good.example'))).toEqual(DENIED)
  })

  it('by default refuses a request without Origin or Host, or with two Host headers', async () => {
    const app = AllowedHostsOriginValidator(accepting)
    expect(await handshake(app, request(undefined, 'example.com'))).toEqual(DENIED)
    expect(await handshake(app, request('https://example.com', undefined))).toEqual(DENIED)
    expect(
      await handshake(app, [
        ['origin', 'https://example.com'],
        ['host', 'example.com'],
        ['host', 'evil.example'],
      ]),
    ).toEqual(DENIED)
  })

  it('with a list, is an OriginValidator over it, ignoring Host', async () => {
    const app = AllowedHostsOriginValidator(accepting, ['example.com', '.example.org'])
    expect(await handshake(app, request('https://example.com', 'internal:8080'))).toEqual(ACCEPTED)
    expect(await handshake(app, request('https://a.example.org', undefined))).toEqual(ACCEPTED)
    expect(await handshake(app, request('https://evil.example', 'evil.example'))).toEqual(DENIED)
    expect(await handshake(AllowedHostsOriginValidator(accepting, []), request('https://a.b', 'a.b'))).toEqual(DENIED)
    expect(() => AllowedHostsOriginValidator(accepting, ['*.example.com'])).toThrow('Expected `allowedHosts[0]`')
  })
})

describe('websocketDenier', () => {
  it('closes before accepting, so the server answers 403', async () => {
    const { receive, send, sent } = connection([{ type: 'websocket.connect' }])
    await websocketDenier(wsScope(), receive, send)
    expect(sent).toEqual([{ type: 'websocket.close' }])
  })

  it('sends nothing to a client that already left', async () => {
    const { receive, send, sent } = connection([{ type: 'websocket.disconnect', code: 1006 }])
    await websocketDenier(wsScope(), receive, send)
    expect(sent).toEqual([])
  })
})

describe('origin helpers', () => {
  it("isSameDomain follows Django's is_same_domain", () => {
    expect(isSameDomain('example.com', 'example.com')).toBe(true)
    expect(isSameDomain('example.com', '.example.com')).toBe(true)
    expect(isSameDomain('a.example.com', '.example.com')).toBe(true)
    expect(isSameDomain('a.example.com', 'example.com')).toBe(false)
    expect(isSameDomain('badexample.com', '.example.com')).toBe(false)
    expect(isSameDomain('example.com', '')).toBe(false)
  })

  it('parseOrigin fills default ports and refuses hostless values', () => {
    expect(parseOrigin('https://Example.com')).toEqual({ scheme: 'https', hostname: 'example.com', port: 443 })
    expect(parseOrigin('ws://a:81')).toEqual({ scheme: 'ws', hostname: 'a', port: 81 })
    expect(parseOrigin('chrome-extension://abc')).toEqual({ scheme: 'chrome-extension', hostname: 'abc', port: null })
    expect(parseOrigin('null')).toBeNull()
    expect(parseOrigin('')).toBeNull()
  })
})
