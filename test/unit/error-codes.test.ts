import { readFileSync } from 'node:fs'

import { describe, expect, it } from 'vitest'

import * as api from '../../src/index.js'

/** Every exported class with a static `SWY_` code, as `code -> class name`. */
function exportedCodes(): Map<string, string> {
  const codes = new Map<string, string>()
  for (const value of Object.values(api)) {
    if (typeof value !== 'function') continue
    const code: unknown = (value as { code?: unknown }).code
    if (typeof code === 'string' && code.startsWith('SWY_')) codes.set(code, value.name)
  }
  return codes
}

/** The README's error table rows: `| `SWY_X` | `ClassName` | ... |`. */
function documentedCodes(): Map<string, string> {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
  const codes = new Map<string, string>()
  for (const match of readme.matchAll(/^\| `(SWY_[A-Z_]+)` *\| `(\w+)` *\|/gm)) codes.set(match[1]!, match[2]!)
  return codes
}

describe('error codes', () => {
  it('the README table lists exactly the exported coded errors', () => {
    const exported = exportedCodes()
    expect(exported.size).toBeGreaterThanOrEqual(8)
    expect(Object.fromEntries(documentedCodes())).toEqual(Object.fromEntries(exported))
  })

  it('codes are unique and each instance carries its class code', () => {
    const exported = exportedCodes()
    expect(new Set(exported.values()).size).toBe(exported.size)
    const error = new api.ChannelFullError('jobs', 3)
    expect(error.code).toBe(api.ChannelFullError.code)
    expect(Object.keys(error)).toContain('code')
  })
})
