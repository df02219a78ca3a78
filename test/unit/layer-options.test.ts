import { describe, expect, it } from 'vitest'

import { InvalidOptionError } from '../../src/errors.js'
import { capacityFor, globToRegExp, resolveLayerOptions } from '../../src/layers/layer-options.js'

describe('resolveLayerOptions', () => {
  it('fills the documented defaults', () => {
    const options = resolveLayerOptions(undefined)
    expect(options).toMatchObject({
      capacity: 100,
      expiryMs: 60_000,
      groupExpiryMs: 86_400_000,
      maxMessageBytes: 1_048_576,
    })
    expect(options.channelCapacity).toEqual([])
  })

  it("names the millisecond option when given Django's seconds-based names", () => {
    expect(() => resolveLayerOptions({ expiry: 60 } as never)).toThrow(/use expiryMs \(milliseconds\)/)
    expect(() => resolveLayerOptions({ group_expiry: 60 } as never)).toThrow(/groupExpiryMs/)
    expect(() => resolveLayerOptions({ channel_capacity: {} } as never)).toThrow(/channelCapacity/)
    expect(() => resolveLayerOptions({ capasity: 1 } as never)).toThrow(InvalidOptionError)
  })

  it('lets a backend declare its own keys', () => {
    expect(() => resolveLayerOptions({ prefix: 'x' } as never, ['prefix'])).not.toThrow()
  })

  it('says what it expected and what it got', () => {
    expect(() => resolveLayerOptions({ capacity: -1 })).toThrow('Expected `capacity` to be a positive integer, got -1')
  })

  it('rejects a logger without the pino methods', () => {
    expect(() => resolveLayerOptions({ logger: {} as never })).toThrow(/`logger`/)
  })
})

describe('channelCapacity patterns', () => {
  it('follows fnmatch: * any run (dots too), ? one character, [seq] and [!seq]', () => {
    expect(globToRegExp('jobs.*').test('jobs.email.bulk')).toBe(true)
    expect(globToRegExp('jobs.*').test('jobsXemail')).toBe(false)
    expect(globToRegExp('img-?').test('img-1')).toBe(true)
    expect(globToRegExp('img-?').test('img-12')).toBe(false)
    expect(globToRegExp('v[12]').test('v2')).toBe(true)
    expect(globToRegExp('v[!12]').test('v2')).toBe(false)
    expect(globToRegExp('v[!12]').test('v3')).toBe(true)
    expect(globToRegExp('a+b(c)').test('a+b(c)')).toBe(true)
    expect(globToRegExp('tiny').test('tiny-not')).toBe(false)
  })

  it('uses the first matching rule, else capacity', () => {
    const options = resolveLayerOptions({ capacity: 7, channelCapacity: { 'jobs.email': 1, 'jobs.*': 50 } })
    expect(capacityFor(options, 'jobs.email')).toBe(1)
    expect(capacityFor(options, 'jobs.images')).toBe(50)
    expect(capacityFor(options, 'chat')).toBe(7)
  })

  it('makes stateful RegExp flags harmless', () => {
    const options = resolveLayerOptions({ channelCapacity: [[/^g/g, 2]] })
    expect([capacityFor(options, 'go'), capacityFor(options, 'go'), capacityFor(options, 'go')]).toEqual([2, 2, 2])
  })
})
