import { describe, expect, it } from 'vitest'

import { InvalidOptionError } from '../../../src/errors.js'
import { compilePathPattern } from '../../../src/routing/path-pattern.js'

const endpoint = (pattern: string | RegExp) => compilePathPattern(pattern, { endpoint: true })
const prefix = (pattern: string | RegExp) => compilePathPattern(pattern, { endpoint: false })

describe('string patterns', () => {
  it("uses Django's converters", () => {
    expect(endpoint('<slug:s>/').match('a-b_C9/')?.kwargs).toEqual({ s: 'a-b_C9' })
    expect(endpoint('<slug:s>/').match('a.b/')).toBeNull()
    const uuid = '0f8fad5b-d9cb-469f-a165-70867728950e'
    expect(endpoint('<uuid:id>/').match(`${uuid}/`)?.kwargs).toEqual({ id: uuid })
    expect(endpoint('<uuid:id>/').match(`${uuid.toUpperCase()}/`)).toBeNull()
    expect(endpoint('files/<path:rest>').match('files/a/b/c.txt')?.kwargs).toEqual({ rest: 'a/b/c.txt' })
    expect(endpoint('<str:s>/').match('a/b/')).toBeNull()
    expect(endpoint('<int:n>/').match('007/')?.kwargs).toEqual({ n: 7 })
    expect(endpoint('<int:n>/').match('-1/')).toBeNull()
  })

  it('does not match an int that a JS number cannot hold exactly', () => {
    expect(endpoint('<int:n>/').match('9007199254740991/')?.kwargs).toEqual({ n: 9007199254740991 })
    expect(endpoint('<int:n>/').match('9007199254740993/')).toBeNull()
  })

  it('takes Express-style :name as a one-segment string', () => {
    const pattern = endpoint('/ws/:room/:user.json')
    expect(pattern.match('ws/lobby/ann.json')?.kwargs).toEqual({ room: 'lobby', user: 'ann' })
    expect(pattern.match('ws/lobby/x/ann.json')).toBeNull()
  })

  it('escapes literal text', () => {
    expect(endpoint('a.b/$x/').match('a.b/$x/')).not.toBeNull()
    expect(endpoint('a.b/').match('aXb/')).toBeNull()
  })

  it('matches the whole path as an endpoint, a prefix otherwise', () => {
    expect(endpoint('a/').match('a/b/')).toBeNull()
    expect(prefix('a/').match('a/b/')).toEqual({ remaining: 'b/', args: [], kwargs: {} })
    expect(prefix('').match('a/b/')).toEqual({ remaining: 'a/b/', args: [], kwargs: {} })
  })

  it('keeps a parameter called __proto__ an ordinary key', () => {
    const kwargs = endpoint('<__proto__>/').match('x/')?.kwargs
    expect(Object.keys(kwargs ?? {})).toEqual(['__proto__'])
    expect(Object.getPrototypeOf(kwargs)).toBe(Object.prototype)
  })

  it.each([
    ['a/<float:x>/', /using the converters/],
    ['a/<int:>/', /identifiers/],
    ['a/<int: x>/', /identifiers/],
    ['a/<x>/<int:x>/', /names each parameter once/],
    ['a/<x/', /a pattern of literal text/],
    ['files/*', /<path:name> or a RegExp/],
    ['a/:id?', /a pattern of literal text/],
  ])('refuses %s', (pattern, message) => {
    expect(() => endpoint(pattern)).toThrow(InvalidOptionError)
    expect(() => endpoint(pattern)).toThrow(message)
  })
})

describe('RegExp patterns', () => {
  it('match at the start of the path, with or without ^', () => {
    expect(prefix(/bar/).match('bar/baz/')?.remaining).toBe('/baz/')
    expect(prefix(/bar/).match('foobar/')).toBeNull()
  })

  it('keep their flags, and drop g so matching is not stateful', () => {
    expect(endpoint(/^chat$/i).match('CHAT')).not.toBeNull()
    const global = endpoint(/room/g)
    expect(global.match('room')).not.toBeNull()
    expect(global.match('room')).not.toBeNull()
  })

  it('give positional args only without named groups, keeping positions', () => {
    expect(endpoint(/^(\d+)\/(x)?\/?$/).match('12/')?.args).toEqual(['12', ''])
    expect(endpoint(/^(?<a>\d+)\/(\d+)\/$/).match('1/2/')).toEqual({ remaining: '', args: [], kwargs: { a: '1' } })
  })

  it('leave out a named group that did not take part', () => {
    expect(endpoint(/^(?<a>\d+)(?:\/(?<b>\w+))?$/).match('1')?.kwargs).toEqual({ a: '1' })
  })

  it('drop a leading escaped slash, since routers strip it from the path', () => {
    expect(endpoint(/^\/ws\/$/).match('ws/')).not.toBeNull()
    expect(endpoint(/\/ws\//).match('ws/')).not.toBeNull()
  })
})
