import { describe, expect, it } from 'vitest'

import {
  InvalidChannelNameError,
  InvalidMessageError,
  MessageNotSerializableError,
  MessageTooLargeError,
  type ChannelLayer,
  type Message,
} from '../../src/index.js'
import { receiveWithin, rejectionOf, type LayerTestContext } from './context.js'

const BAD_CHANNELS: readonly unknown[] = ['¯\\_(ツ)_/¯', 'chat'.repeat(25), '', '=+135!', 'two!bangs!x', 'sp ace', 42]
const GOOD_CHANNELS = ['chat', 'a'.repeat(99), 'jobs.email-send_v2', 'specific.abc!local', 'x!']

class User {
  constructor(readonly id: number) {}
}

/** Values that must not pass, with the path and the words the error must contain. */
const NOT_SERIALIZABLE: readonly (readonly [string, () => Record<string, unknown>, string, RegExp])[] = [
  ['a function', () => ({ callback: () => 1 }), 'message.callback', /function/],
  ['a class instance', () => ({ user: { profile: new User(7) } }), 'message.user.profile', /User instance.*id/],
  ['a Date', () => ({ at: new Date(0) }), 'message.at', /Date.*toISOString/],
  ['a Map', () => ({ index: new Map() }), 'message.index', /Map/],
  ['a Set', () => ({ tags: new Set(['a']) }), 'message.tags', /Set.*array/],
  ['a BigInt', () => ({ n: 10n }), 'message.n', /BigInt/],
  ['a symbol', () => ({ s: Symbol('s') }), 'message.s', /symbol/],
  ['undefined', () => ({ missing: undefined }), 'message.missing', /undefined.*null/],
  ['NaN', () => ({ list: [1, Number.NaN] }), 'message.list[1]', /NaN/],
  ['Infinity', () => ({ n: Number.POSITIVE_INFINITY }), 'message.n', /Infinity/],
  [
    'a cycle',
    () => {
      const a: Record<string, unknown> = {}
      a.self = { a }
      return { a }
    },
    'message.a.self.a',
    /cycle/,
  ],
]

export function validationCases(ctx: LayerTestContext): void {
  describe('names', () => {
    const operations: readonly (readonly [string, (layer: ChannelLayer, name: string) => Promise<unknown>])[] = [
      ['send', (layer, name) => layer.send(name, { type: 'x' })],
      ['receive', (layer, name) => layer.receive(name, { signal: AbortSignal.timeout(100) })],
      ['groupAdd', (layer, name) => layer.groupAdd('group', name)],
      ['groupDiscard', (layer, name) => layer.groupDiscard('group', name)],
    ]
    for (const [operation, call] of operations) {
      it(`${operation} rejects invalid channel names with InvalidChannelNameError naming the rule`, async () => {
        const layer = await ctx.make()
        for (const name of BAD_CHANNELS) {
          const error = await rejectionOf(() => call(layer, name as string))
          expect(error).toBeInstanceOf(InvalidChannelNameError)
          expect(error).toBeInstanceOf(TypeError)
          expect(error.code).toBe('SWY_INVALID_CHANNEL_NAME')
          if (typeof name === 'string' && name.length > 0 && name.length < 100) expect(error.message).toContain(name)
          expect(error.message).toMatch(/characters|string/)
        }
      })
    }

    it('accepts valid channel names', async () => {
      const layer = await ctx.make()
      for (const name of GOOD_CHANNELS) {
        if (name.includes('!')) continue // process-specific names are receivable only by their layer
        await layer.send(name, { type: 'ok' })
        expect(await receiveWithin(layer, name, 1000)).toEqual({ type: 'ok' })
      }
      await layer.send('specific.abc!local', { type: 'ok' })
    })

    it('rejects invalid group names, including any "!"', async () => {
      const layer = await ctx.make()
      for (const group of ['bad!group', 'g'.repeat(100), '', 'spa ce']) {
        for (const call of [
          () => layer.groupAdd(group, 'chan'),
          () => layer.groupDiscard(group, 'chan'),
          () => layer.groupSend(group, { type: 'x' }),
        ]) {
          const error = await rejectionOf(call)
          expect(error).toBeInstanceOf(InvalidChannelNameError)
          expect(error.message).toMatch(/^Group name/)
        }
      }
      const long = await rejectionOf(() => layer.groupAdd('a'.repeat(101), 'chan'))
      expect(long.message).toContain('1 to 99 characters')
    })
  })

  describe('messages', () => {
    for (const [label, build, path, words] of NOT_SERIALIZABLE) {
      it(`rejects ${label} at ${path}, on send and groupSend, and queues nothing`, async () => {
        const layer = await ctx.make()
        await layer.groupAdd('g', 'target')
        for (const call of [
          () => layer.send('target', { type: 'bad.value', ...build() }),
          () => layer.groupSend('g', { type: 'bad.value', ...build() }),
        ]) {
          const error = await rejectionOf(call)
          expect(error).toBeInstanceOf(MessageNotSerializableError)
          expect(error.code).toBe('SWY_MESSAGE_NOT_SERIALIZABLE')
          expect(error).toMatchObject({ path })
          expect(error.message).toContain(`\`${path}\``)
          expect(error.message).toMatch(words)
        }
        expect(layer.stats().sent).toBe(0)
        expect(await receiveWithin(layer, 'target', 50)).toBeUndefined()
      })
    }

    it('rejects messages without a string type, non-objects, and the reserved routing key', async () => {
      const layer = await ctx.make()
      const bad: unknown[] = [{}, { type: 3 }, { type: '' }, null, 'text', [{ type: 'x' }], new User(1)]
      for (const message of bad) {
        const error = await rejectionOf(() => layer.send('c', message as Message))
        expect(error).toBeInstanceOf(InvalidMessageError)
        expect(error).toBeInstanceOf(TypeError)
        expect(error.code).toBe('SWY_INVALID_MESSAGE')
        expect(error.message).toMatch(/type/)
      }
      const reserved = await rejectionOf(() => layer.send('c', { type: 'x', __asgi_channel__: 'c' }))
      expect(reserved).toBeInstanceOf(InvalidMessageError)
      expect(reserved.message).toContain('__asgi_channel__')
    })

    it('bounds message size with maxMessageBytes', async () => {
      const layer = await ctx.make({ maxMessageBytes: 1024 })
      await layer.send('sized', { type: 'small', body: 'x'.repeat(900) })
      const error = await rejectionOf(() => layer.send('sized', { type: 'big', body: 'x'.repeat(1100) }))
      expect(error).toBeInstanceOf(MessageTooLargeError)
      expect(error.code).toBe('SWY_MESSAGE_TOO_LARGE')
      expect(error.message).toMatch(/1024/)
      await expect(layer.groupSend('g', { type: 'big', body: new Uint8Array(2000) })).rejects.toBeInstanceOf(
        MessageTooLargeError,
      )
      expect((await layer.receive('sized')).type).toBe('small')
    })

    it('accepts messages up to 1 MiB by default and refuses larger ones', async () => {
      const layer = await ctx.make()
      await layer.send('large', { type: 'large.ok', body: new Uint8Array(1_000_000) })
      expect(((await layer.receive('large')).body as Uint8Array).byteLength).toBe(1_000_000)
      await expect(layer.send('large', { type: 'too.large', body: 'y'.repeat(1_048_576) })).rejects.toBeInstanceOf(
        MessageTooLargeError,
      )
    })
  })
}
