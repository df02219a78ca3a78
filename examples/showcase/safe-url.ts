/**
 * The SSRF guard for webhook deliveries: a URL a user typed must not make the server call into its own network
 * (the cloud metadata service at 169.254.169.254, Redis on 127.0.0.1, an admin panel on 10.0.0.5, ...).
 *
 * Three layers, each closing a hole the one before leaves open:
 * 1. `parseWebhookUrl` accepts only `http:` and `https:` URLs; the WHATWG parser has already turned tricks such as
 *    `http://2130706433/` or `http://0x7f.1/` into `127.0.0.1`, so literal addresses are checked in their canonical
 *    form.
 * 2. `assertPublicTarget` resolves the host name (every address, IPv4 and IPv6) and refuses it if any one is
 *    private, so the user gets an answer when they submit.
 * 3. `publicOnlyLookup` is the `lookup` the delivery's socket connects through: it checks the very addresses the
 *    connection uses, so a DNS answer that changes between the check and the connection (DNS rebinding) cannot
 *    slip through. Redirects are never followed (see `deliver-webhook.ts`), so a public URL cannot bounce the
 *    request inward either.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns'
import { isIP, isIPv4, isIPv6, type LookupFunction } from 'node:net'

/** A webhook target the guard refuses; `message` says why, for the user who typed it. */
export class UnsafeUrlError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'UnsafeUrlError'
  }
}

/** Resolves a host name to every address it has (dns.lookup with `all: true`); injectable for tests. */
export type ResolveAll = (hostname: string) => Promise<readonly LookupAddress[]>

interface Range {
  readonly bytes: readonly number[]
  readonly bits: number
  readonly name: string
  /** Where an IPv4 address sits inside this IPv6 range (mapped, NAT64, 6to4): that one is checked instead. */
  readonly embeddedV4At?: number
}

// IANA special-purpose registries (RFC 6890 and successors): everything not globally reachable.
const V4_RANGES: readonly Range[] = [
  { bytes: [0], bits: 8, name: '"this network"' },
  { bytes: [10], bits: 8, name: 'private' },
  { bytes: [100, 64], bits: 10, name: 'carrier-grade NAT' },
  { bytes: [127], bits: 8, name: 'loopback' },
  { bytes: [169, 254], bits: 16, name: 'link-local' },
  { bytes: [172, 16], bits: 12, name: 'private' },
  { bytes: [192, 0, 0], bits: 24, name: 'IETF protocol' },
  { bytes: [192, 0, 2], bits: 24, name: 'documentation' },
  { bytes: [192, 88, 99], bits: 24, name: '6to4 relay' },
  { bytes: [192, 168], bits: 16, name: 'private' },
  { bytes: [198, 18], bits: 15, name: 'benchmarking' },
  { bytes: [198, 51, 100], bits: 24, name: 'documentation' },
  { bytes: [203, 0, 113], bits: 24, name: 'documentation' },
  { bytes: [224], bits: 4, name: 'multicast' },
  { bytes: [240], bits: 4, name: 'reserved' },
]

const V6_RANGES: readonly Range[] = [
  { bytes: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff], bits: 96, name: 'IPv4-mapped', embeddedV4At: 12 },
  // Covers :: (unspecified), ::1 (loopback) and the deprecated IPv4-compatible addresses.
  { bytes: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], bits: 96, name: 'loopback or unspecified' },
  { bytes: [0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0], bits: 96, name: 'NAT64', embeddedV4At: 12 },
  { bytes: [0, 0x64, 0xff, 0x9b, 0, 1], bits: 48, name: 'local NAT64' },
  { bytes: [1, 0, 0, 0, 0, 0, 0, 0], bits: 64, name: 'discard-only' },
  { bytes: [0x20, 0x01, 0, 0], bits: 32, name: 'Teredo' },
  { bytes: [0x20, 0x01, 0x0d, 0xb8], bits: 32, name: 'documentation' },
  { bytes: [0x20, 0x02], bits: 16, name: '6to4', embeddedV4At: 2 },
  { bytes: [0xfc], bits: 7, name: 'unique-local' },
  { bytes: [0xfe, 0x80], bits: 10, name: 'link-local' },
  { bytes: [0xfe, 0xc0], bits: 10, name: 'site-local' },
  { bytes: [0xff], bits: 8, name: 'multicast' },
]

/**
 * Why `address` (an IPv4 or IPv6 literal, brackets and zone index allowed) is not a public internet address, e.g.
 * `'loopback'`; `undefined` when it is public. Anything that does not parse is refused too (fail closed).
 */
export function nonPublicReason(address: string): string | undefined {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '')
  if (isIPv4(bare)) return matchRanges(bare.split('.').map(Number), V4_RANGES)
  if (isIPv6(bare)) {
    const bytes = ipv6Bytes(bare)
    for (const range of V6_RANGES) {
      if (!inRange(bytes, range)) continue
      if (range.embeddedV4At === undefined) return range.name
      const v4 = bytes.slice(range.embeddedV4At, range.embeddedV4At + 4)
      const reason = matchRanges(v4, V4_RANGES)
      return reason === undefined ? undefined : `${range.name} ${reason}`
    }
    return undefined
  }
  return 'not an IP address'
}

/** Parses a webhook URL, refusing every scheme but http and https. */
export function parseWebhookUrl(raw: string): URL {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new UnsafeUrlError(`"${raw.slice(0, 200)}" is not an absolute URL; give one such as https://example.com/hook`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UnsafeUrlError(`Only http and https webhooks are delivered, not ${url.protocol.slice(0, 20)}`)
  }
  if (url.hostname === '') throw new UnsafeUrlError('The URL has no host')
  return url
}

/**
 * Refuses `url` unless every address its host resolves to (or the literal address it names) is public.
 * Resolves to the addresses checked.
 */
export async function assertPublicTarget(url: URL, resolveAll: ResolveAll = systemResolveAll): Promise<string[]> {
  const host = url.hostname.replace(/^\[|\]$/g, '')
  if (isIP(host) !== 0) {
    refuseIfPrivate(host, host)
    return [host]
  }
  let addresses: readonly LookupAddress[]
  try {
    addresses = await resolveAll(host)
  } catch (error) {
    const code = (error as { code?: unknown }).code
    throw new UnsafeUrlError(`Cannot resolve ${host} (${typeof code === 'string' ? code : 'DNS error'})`)
  }
  if (addresses.length === 0) throw new UnsafeUrlError(`${host} has no addresses`)
  for (const { address } of addresses) refuseIfPrivate(host, address)
  return addresses.map(({ address }) => address)
}

/**
 * A `lookup` for `http.request` that resolves as usual but fails the connection when any address is not public.
 * Node skips `lookup` for literal addresses: check those with `assertPublicTarget` first.
 */
export function publicOnlyLookup(resolveAll: ResolveAll = systemResolveAll): LookupFunction {
  return (hostname, options, callback) => {
    const fail = (error: unknown): void => {
      callback(error as NodeJS.ErrnoException, '', 4)
    }
    const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : (options.family ?? 0)
    resolveAll(hostname).then((addresses) => {
      try {
        if (addresses.length === 0) throw new UnsafeUrlError(`${hostname} has no addresses`)
        for (const { address } of addresses) refuseIfPrivate(hostname, address)
      } catch (error) {
        fail(error)
        return
      }
      const usable = family === 0 ? [...addresses] : addresses.filter((entry) => entry.family === family)
      const first = usable[0]
      if (options.all === true) callback(null, usable)
      else if (first === undefined) fail(new UnsafeUrlError(`${hostname} has no IPv${family} address`))
      else callback(null, first.address, first.family)
    }, fail)
  }
}

function refuseIfPrivate(host: string, address: string): void {
  const reason = nonPublicReason(address)
  if (reason === undefined) return
  const shown = host === address ? address : `${host} (${address})`
  throw new UnsafeUrlError(
    `Refused: ${shown} is a ${reason} address. Webhooks go to public hosts only; set ALLOW_PRIVATE_WEBHOOKS=1 to ` +
      'deliver inside your own network (local testing only)',
  )
}

function systemResolveAll(hostname: string): Promise<readonly LookupAddress[]> {
  return new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) => {
      if (error === null) resolve(addresses)
      else reject(error)
    })
  })
}

function matchRanges(bytes: readonly number[], ranges: readonly Range[]): string | undefined {
  return ranges.find((range) => inRange(bytes, range))?.name
}

function inRange(bytes: readonly number[], range: Range): boolean {
  let bits = range.bits
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff
    if (((bytes[i] ?? 0) & mask) !== ((range.bytes[i] ?? 0) & mask)) return false
  }
  return true
}

/** The 16 bytes of a valid IPv6 literal (`::` expanded, a trailing dotted IPv4 part converted). */
function ipv6Bytes(address: string): number[] {
  const toGroups = (part: string): number[] => {
    if (part === '') return []
    return part.split(':').flatMap((group) => {
      if (!group.includes('.')) return [parseInt(group, 16)]
      const [a = 0, b = 0, c = 0, d = 0] = group.split('.').map(Number)
      return [(a << 8) | b, (c << 8) | d]
    })
  }
  const [head = '', tail] = address.split('::')
  const left = toGroups(head)
  const right = tail === undefined ? [] : toGroups(tail)
  const groups = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right]
  return groups.flatMap((group) => [group >> 8, group & 0xff])
}
