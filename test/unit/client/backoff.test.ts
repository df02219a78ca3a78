import { describe, expect, it } from 'vitest'

import { DEFAULT_RECONNECT_OPTIONS, reconnectDelayMs, shouldReconnect } from '../../../src/client/index.js'
import { resolveUrl } from '../../../src/client/resolve-url.js'

describe('reconnectDelayMs', () => {
  const noJitter = { ...DEFAULT_RECONNECT_OPTIONS, jitter: 0 }

  it('grows by factor from initialDelayMs and is capped at maxDelayMs', () => {
    const delays = [0, 1, 2, 3, 4, 5, 6, 50].map((attempt) => reconnectDelayMs(attempt, noJitter, Math.random))
    expect(delays).toEqual([500, 1_000, 2_000, 4_000, 8_000, 10_000, 10_000, 10_000])
  })

  it('moves each delay uniformly within ±jitter of it, also at the cap', () => {
    const at = (random: number, attempt: number) => reconnectDelayMs(attempt, DEFAULT_RECONNECT_OPTIONS, () => random)
    expect([at(0, 0), at(0.5, 0), at(0.999_999, 0)]).toEqual([250, 500, 750])
    expect([at(0, 20), at(0.5, 20), at(0.999_999, 20)]).toEqual([5_000, 10_000, 15_000])
  })
})

describe('shouldReconnect', () => {
  it('retries what is outside the client and stops on deliberate or client-caused closes', () => {
    const retried = [1001, 1005, 1006, 1011, 1012, 1013, 1014, 1015, 3001, 3008, 4500, 4999, 1004, 2000]
    const fatal = [1000, 1002, 1003, 1007, 1008, 1009, 1010, 3000, 3003, 4000, 4001, 4403, 4499]
    expect(retried.filter((code) => !shouldReconnect(code))).toEqual([])
    expect(fatal.filter((code) => shouldReconnect(code))).toEqual([])
  })
})

describe('resolveUrl', () => {
  it('resolves against the page and maps http(s) to ws(s)', () => {
    expect(resolveUrl('/ws/chat/lobby/', 'https://example.com/rooms/lobby')).toBe('wss://example.com/ws/chat/lobby/')
    expect(resolveUrl('ws/', 'http://127.0.0.1:8000/app/')).toBe('ws://127.0.0.1:8000/app/ws/')
    expect(resolveUrl('https://example.com/ws/', undefined)).toBe('wss://example.com/ws/')
    expect(resolveUrl('ws://example.com/ws/?token=a', 'https://other.test/')).toBe('ws://example.com/ws/?token=a')
  })

  it('refuses a relative URL without a page and other schemes', () => {
    expect(() => resolveUrl('/ws/', undefined)).toThrow(TypeError)
    expect(() => resolveUrl('mailto:someone@example.com', 'https://example.com/')).toThrow(/got "mailto:/)
  })
})
