// Which `Host` headers count as this machine in loopback mode (DNS rebinding, issue 14 item 1): the forms browsers
// send for localhost, 127.0.0.0/8 and ::1, and nothing else.
import { describe, expect, it } from 'vitest'

import { isLoopbackHost, requestHost } from '../../src/index.js'

describe('isLoopbackHost', () => {
  it.each([
    'localhost',
    'localhost:8000',
    'LOCALHOST:8000',
    'LocalHost',
    '127.0.0.1',
    '127.0.0.1:8000',
    '127.255.255.254:65535',
    '127.0.0.2:1',
    '[::1]',
    '[::1]:8000',
  ])('accepts %j', (host) => {
    expect(isLoopbackHost(host)).toBe(true)
  })

  it.each([
    ['a rebound name', 'evil.example:8000'],
    ['a rebound name without port', 'evil.example'],
    ['a name ending in localhost', 'evillocalhost'],
    ['a subdomain of localhost', 'evil.localhost:8000'],
    ['localhost as a subdomain', 'localhost.evil.example'],
    ['the trailing-dot form', 'localhost.:8000'],
    ['the short form 127.1', '127.1:8000'],
    ['a three-part form', '127.0.1'],
    ['an integer address', '2130706433'],
    ['a hexadecimal octet', '0x7f.0.0.1'],
    ['an octal octet', '0177.0.0.1'],
    ['a zero-padded octet', '127.0.0.01'],
    ['an octet over 255', '127.0.0.256'],
    ['a fifth part', '127.0.0.1.evil.example'],
    ['another private address', '10.0.0.1:8000'],
    ['the unspecified address', '0.0.0.0:8000'],
    ['a public address', '203.0.113.7'],
    ['::1 without brackets', '::1'],
    ['the long form of ::1', '[0:0:0:0:0:0:0:1]:8000'],
    ['an IPv4-mapped address', '[::ffff:127.0.0.1]:8000'],
    ['another IPv6 address', '[::2]:8000'],
    ['an unclosed bracket', '[::1:8000'],
    ['an empty port', 'localhost:'],
    ['port 0', 'localhost:0'],
    ['a port over 65535', 'localhost:65536'],
    ['a zero-padded port', 'localhost:08000'],
    ['a non-numeric port', 'localhost:http'],
    ['two ports', '127.0.0.1:8000:9000'],
    ['user info', 'user@localhost:8000'],
    ['surrounding space', ' localhost'],
    ['an empty header', ''],
  ])('refuses %s (%j)', (_what, host) => {
    expect(isLoopbackHost(host)).toBe(false)
  })

  it('refuses a missing Host (HTTP/1.0): nothing says which name the client meant', () => {
    expect(isLoopbackHost(undefined)).toBe(false)
  })
})

describe('requestHost', () => {
  it("reads Host, or HTTP/2's :authority, and never X-Forwarded-Host", () => {
    expect(requestHost({ host: 'localhost:8000' })).toBe('localhost:8000')
    expect(requestHost({ ':authority': '[::1]:8443' })).toBe('[::1]:8443')
    expect(requestHost({ host: 'evil.example', 'x-forwarded-host': 'localhost' })).toBe('evil.example')
    expect(requestHost({ 'x-forwarded-host': 'localhost' })).toBeUndefined()
  })
})
