// The showcase's SSRF guard (examples/showcase/safe-url.ts): address classification, URL parsing, and both DNS
// checks with an injected resolver, so no test depends on the machine's DNS.
import type { LookupAddress, LookupOptions } from 'node:dns'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

import { afterEach, describe, expect, it } from 'vitest'

import { postWebhook } from '../../../examples/showcase/deliver-webhook.js'
import {
  assertPublicTarget,
  nonPublicReason,
  parseWebhookUrl,
  publicOnlyLookup,
  UnsafeUrlError,
  type ResolveAll,
} from '../../../examples/showcase/safe-url.js'

const resolvesTo =
  (...addresses: string[]): ResolveAll =>
  async () =>
    addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }))

describe('nonPublicReason', () => {
  it.each([
    ['0.0.0.0', '"this network"'],
    ['10.0.0.1', 'private'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['100.127.255.255', 'carrier-grade NAT'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['169.254.169.254', 'link-local'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.0.0.8', 'IETF protocol'],
    ['192.0.2.1', 'documentation'],
    ['192.168.1.1', 'private'],
    ['198.18.0.1', 'benchmarking'],
    ['198.19.255.255', 'benchmarking'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['::', 'loopback or unspecified'],
    ['::1', 'loopback or unspecified'],
    ['[::1]', 'loopback or unspecified'],
    ['0:0:0:0:0:0:0:1', 'loopback or unspecified'],
    ['::127.0.0.1', 'loopback or unspecified'],
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
    ['::ffff:7f00:1', 'IPv4-mapped loopback'],
    ['::ffff:a9fe:a9fe', 'IPv4-mapped link-local'],
    ['::FFFF:10.0.0.1', 'IPv4-mapped private'],
    ['64:ff9b::7f00:1', 'NAT64 loopback'],
    ['64:ff9b:1::1', 'local NAT64'],
    ['2002:7f00:1::', '6to4 loopback'],
    ['2001:db8::1', 'documentation'],
    ['2001::1', 'Teredo'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456::1', 'unique-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf::1', 'link-local'],
    ['fec0::1', 'site-local'],
    ['ff02::1', 'multicast'],
    ['example.com', 'not an IP address'],
    ['1.2.3', 'not an IP address'],
  ])('refuses %s (%s)', (address, reason) => {
    expect(nonPublicReason(address)).toBe(reason)
  })

  it.each([
    '1.1.1.1',
    '8.8.8.8',
    '93.184.216.34',
    '100.63.255.255',
    '100.128.0.0',
    '172.15.255.255',
    '172.32.0.0',
    '192.169.0.1',
    '223.255.255.255',
    '2606:4700:4700::1111',
    '2a00:1450:4001::200e',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    '2002:808:808::1',
    'fe00::1',
  ])('allows the public address %s', (address) => {
    expect(nonPublicReason(address)).toBeUndefined()
  })
})

describe('parseWebhookUrl', () => {
  it('accepts http and https', () => {
    expect(parseWebhookUrl('https://example.com/hook?a=1').href).toBe('https://example.com/hook?a=1')
    expect(parseWebhookUrl('HTTP://Example.COM').hostname).toBe('example.com')
  })

  it.each(['ftp://example.com/', 'file:///etc/passwd', 'javascript:alert(1)', 'data:text/plain,hi', 'gopher://x/'])(
    'refuses the scheme of %s',
    (url) => {
      expect(() => parseWebhookUrl(url)).toThrow(/Only http and https/)
    },
  )

  it('refuses what is not an absolute URL', () => {
    expect(() => parseWebhookUrl('/relative')).toThrow(UnsafeUrlError)
    expect(() => parseWebhookUrl('')).toThrow(/not an absolute URL/)
  })
})

describe('assertPublicTarget', () => {
  it('checks literal addresses in the canonical form the URL parser gives them', async () => {
    for (const url of ['http://2130706433/', 'http://0x7f.1/', 'http://127.1:8080/', 'http://[::ffff:127.0.0.1]/']) {
      await expect(assertPublicTarget(parseWebhookUrl(url), resolvesTo('8.8.8.8'))).rejects.toThrow(/loopback/)
    }
    await expect(assertPublicTarget(parseWebhookUrl('http://[fd00::1]/'))).rejects.toThrow(/unique-local/)
    await expect(assertPublicTarget(parseWebhookUrl('http://1.1.1.1/'))).resolves.toEqual(['1.1.1.1'])
  })

  it('refuses a host when any one of its addresses is not public', async () => {
    const url = parseWebhookUrl('https://mixed.example/')
    await expect(assertPublicTarget(url, resolvesTo('93.184.216.34', 'fe80::1'))).rejects.toThrow(
      'Refused: mixed.example (fe80::1) is a link-local address',
    )
    await expect(assertPublicTarget(url, resolvesTo('93.184.216.34', '2606:4700::1'))).resolves.toEqual([
      '93.184.216.34',
      '2606:4700::1',
    ])
  })

  it('refuses a host that does not resolve, naming the DNS error', async () => {
    const failing: ResolveAll = async () => {
      throw Object.assign(new Error('queryA ENOTFOUND'), { code: 'ENOTFOUND' })
    }
    await expect(assertPublicTarget(parseWebhookUrl('http://nope.invalid/'), failing)).rejects.toThrow(
      'Cannot resolve nope.invalid (ENOTFOUND)',
    )
    await expect(assertPublicTarget(parseWebhookUrl('http://empty.example/'), resolvesTo())).rejects.toThrow(
      'has no addresses',
    )
  })
})

describe('publicOnlyLookup', () => {
  function lookup(resolveAll: ResolveAll, options: LookupOptions): Promise<unknown> {
    return new Promise((resolve, reject) => {
      publicOnlyLookup(resolveAll)('host.example', options, (error, address, family) => {
        if (error === null) resolve({ address, family })
        else reject(error)
      })
    })
  }

  it('answers like dns.lookup for public hosts, one address or all, by family', async () => {
    const resolveAll = resolvesTo('2606:4700::1', '93.184.216.34')
    expect(await lookup(resolveAll, {})).toEqual({ address: '2606:4700::1', family: 6 })
    expect(await lookup(resolveAll, { family: 4 })).toEqual({ address: '93.184.216.34', family: 4 })
    const all = (await lookup(resolveAll, { all: true })) as { address: LookupAddress[] }
    expect(all.address).toHaveLength(2)
    await expect(lookup(resolvesTo('93.184.216.34'), { family: 6 })).rejects.toThrow('has no IPv6 address')
  })

  it('fails the connection when the name resolves to a private address (DNS rebinding)', async () => {
    await expect(lookup(resolvesTo('93.184.216.34', '127.0.0.1'), { all: true })).rejects.toThrow(UnsafeUrlError)
  })
})

describe('postWebhook', () => {
  let server: Server | undefined
  afterEach(async () => {
    const closing = server
    server = undefined
    if (closing !== undefined) await new Promise((resolve) => closing.close(resolve))
  })

  async function listen(
    status: number,
    headers: Record<string, string> = {},
  ): Promise<{ port: number; hits: string[] }> {
    const hits: string[] = []
    server = createServer((request, response) => {
      let body = ''
      request.on('data', (chunk: Buffer) => (body += chunk.toString()))
      request.on('end', () => {
        hits.push(`${request.method ?? ''} ${request.headers['content-type'] ?? ''} ${body}`)
        response.writeHead(status, headers).end('ok')
      })
    })
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
    return { port: (server.address() as AddressInfo).port, hits }
  }

  it('refuses a name that resolves to loopback, before any request', async () => {
    const { port, hits } = await listen(200)
    const signal = AbortSignal.timeout(2_000)
    await expect(
      postWebhook(`http://hooks.example:${port}/`, '{}', {
        signal,
        allowPrivate: false,
        resolveAll: resolvesTo('127.0.0.1'),
      }),
    ).rejects.toThrow(/loopback/)
    expect(hits).toEqual([])
  })

  it('checks again when connecting: a DNS answer that turns private after the first check is refused', async () => {
    const { port, hits } = await listen(200)
    let calls = 0
    const rebinding: ResolveAll = async (hostname) =>
      resolvesTo(++calls === 1 ? '93.184.216.34' : '127.0.0.1')(hostname)
    await expect(
      postWebhook(`http://hooks.example:${port}/`, '{}', {
        signal: AbortSignal.timeout(2_000),
        allowPrivate: false,
        resolveAll: rebinding,
      }),
    ).rejects.toThrow('Refused: hooks.example (127.0.0.1) is a loopback address')
    expect(calls).toBe(2)
    expect(hits).toEqual([])
  })

  it('posts JSON when private targets are allowed, and does not follow redirects', async () => {
    const { port, hits } = await listen(302, { location: 'http://169.254.169.254/' })
    const status = await postWebhook(`http://127.0.0.1:${port}/`, '{"a":1}', {
      signal: AbortSignal.timeout(2_000),
      allowPrivate: true,
    })
    expect(status).toBe(302)
    expect(hits).toEqual(['POST application/json {"a":1}'])
  })
})
