import { describe, expect, it } from 'vitest'

import { InvalidOptionError } from '../../../src/errors.js'
import { signCookieValue, unsignCookieValue } from '../../../src/middleware/cookie-signing.js'

const CURRENT = 'current-secret-0123456789abcdefghij'
const PREVIOUS = 'previous-secret-0123456789abcdefghi'

describe('signCookieValue / unsignCookieValue', () => {
  it('round-trips, values with dots included', () => {
    expect(unsignCookieValue(signCookieValue('42', CURRENT), [CURRENT])).toBe('42')
    expect(unsignCookieValue(signCookieValue('a.b.c', CURRENT), [CURRENT])).toBe('a.b.c')
    expect(unsignCookieValue(signCookieValue('', CURRENT), [CURRENT])).toBe('')
  })

  it('writes value.signature with a base64url HMAC-SHA256', () => {
    expect(signCookieValue('42', CURRENT)).toMatch(/^42\.[A-Za-z0-9_-]{43}$/)
  })

  it('rejects a tampered value or signature', () => {
    const signed = signCookieValue('42', CURRENT)
    const signature = signed.slice(3)
    expect(unsignCookieValue(`43.${signature}`, [CURRENT])).toBeNull()
    const flipped = signature.startsWith('A') ? `B${signature.slice(1)}` : `A${signature.slice(1)}`
    expect(unsignCookieValue(`42.${flipped}`, [CURRENT])).toBeNull()
    expect(unsignCookieValue(`${signed}x`, [CURRENT])).toBeNull()
    expect(unsignCookieValue(`${signed}!`, [CURRENT])).toBeNull()
    expect(unsignCookieValue(signed.slice(0, -1), [CURRENT])).toBeNull()
    expect(unsignCookieValue('42', [CURRENT])).toBeNull()
    expect(unsignCookieValue('42.', [CURRENT])).toBeNull()
    expect(unsignCookieValue(42 as never, [CURRENT])).toBeNull()
  })

  it('rejects a value signed with another secret', () => {
    expect(unsignCookieValue(signCookieValue('42', PREVIOUS), [CURRENT])).toBeNull()
  })

  it('rotates: accepts every listed secret until the old one is removed', () => {
    const old = signCookieValue('42', PREVIOUS)
    expect(unsignCookieValue(old, [CURRENT, PREVIOUS])).toBe('42')
    expect(unsignCookieValue(signCookieValue('42', CURRENT), [CURRENT, PREVIOUS])).toBe('42')
    expect(unsignCookieValue(old, [CURRENT])).toBeNull()
  })

  it('refuses short, missing or non-string secrets without repeating them', () => {
    const short = 'hunter2'
    expect(() => signCookieValue('42', short)).toThrow('Expected `secret.length` to be at least 32, got 7')
    expect(() => unsignCookieValue('42.x', [CURRENT, short])).toThrow('Expected `secrets[1].length`')
    expect(() => unsignCookieValue('42.x', [])).toThrow(InvalidOptionError)
    expect(() => unsignCookieValue('42.x', CURRENT as never)).toThrow(InvalidOptionError)
    expect(() => signCookieValue('42', 12345 as never)).toThrow(InvalidOptionError)
    try {
      signCookieValue('42', short)
    } catch (error) {
      expect(String(error)).not.toContain(short)
    }
    expect.assertions(6)
  })
})
