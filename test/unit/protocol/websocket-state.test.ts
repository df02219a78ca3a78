import { describe, expect, it } from 'vitest'

import type { OutputEvent } from '../../../src/application.js'
import { ConnectionClosedError, InvalidEventError, NotAcceptedError } from '../../../src/errors.js'
import { isSendableCloseCode, MAX_CLOSE_REASON_BYTES, WebsocketProtocolState } from '../../../src/protocol/index.js'

const loose = (event: unknown): OutputEvent => event as OutputEvent

function accepted(): WebsocketProtocolState {
  const state = new WebsocketProtocolState()
  state.check({ type: 'websocket.accept' })
  return state
}

describe('WebsocketProtocolState', () => {
  it('tracks accept and close', () => {
    const state = new WebsocketProtocolState()
    expect([state.accepted, state.closed]).toEqual([false, false])
    state.check({ type: 'websocket.accept', subprotocol: null, headers: [['x-a', '1']] })
    state.check({ type: 'websocket.send', text: 'hi' })
    state.check({ type: 'websocket.send', bytes: Buffer.from('hi'), text: null })
    expect([state.accepted, state.closed]).toEqual([true, false])
    state.check({ type: 'websocket.close', code: 4007, reason: 'room closed' })
    expect([state.accepted, state.closed]).toEqual([true, true])
  })

  it('records nothing when a check fails', () => {
    const state = new WebsocketProtocolState({ subprotocols: ['a'] })
    expect(() => {
      state.check({ type: 'websocket.accept', subprotocol: 'b' })
    }).toThrow(InvalidEventError)
    expect(state.accepted).toBe(false)
    expect(() => {
      state.check({ type: 'websocket.send', text: 'x' })
    }).toThrow(NotAcceptedError)
    state.check({ type: 'websocket.accept', subprotocol: 'a' })
    expect(() => {
      state.check({ type: 'websocket.close', code: 1005 })
    }).toThrow(InvalidEventError)
    expect(state.closed).toBe(false)
  })

  it('rejects the handshake with any integer code before accept (no close frame is sent)', () => {
    const state = new WebsocketProtocolState()
    state.check({ type: 'websocket.close', code: 403, reason: 'x'.repeat(500) })
    expect(state.closed).toBe(true)
    expect(() => {
      state.check({ type: 'websocket.accept' })
    }).toThrow(
      new ConnectionClosedError(
        'Cannot send websocket.accept: the WebSocket is closed (the application already sent websocket.close)',
      ),
    )
  })

  it('is closed once the client disconnected', () => {
    const state = accepted()
    state.markDisconnected()
    expect(state.closed).toBe(true)
    expect(() => {
      state.check({ type: 'websocket.close' })
    }).toThrow(
      new ConnectionClosedError('Cannot send websocket.close: the WebSocket is closed (the client disconnected)'),
    )
  })

  it.each([1000, 1001, 1003, 1007, 1011, 1014, 3000, 4007, 4999])('sends close code %i', (code) => {
    expect(isSendableCloseCode(code)).toBe(true)
    accepted().check({ type: 'websocket.close', code })
  })

  it.each([999, 1004, 1005, 1006, 1015, 2999, 5000])('refuses close code %i after accept', (code) => {
    expect(isSendableCloseCode(code)).toBe(false)
    expect(() => {
      accepted().check({ type: 'websocket.close', code })
    }).toThrow(`websocket.close code ${code} cannot be sent in a close frame`)
  })

  it('limits the close reason to 123 UTF-8 bytes after accept', () => {
    accepted().check({ type: 'websocket.close', reason: 'é'.repeat(61) + 'a' })
    expect(() => {
      accepted().check({ type: 'websocket.close', reason: 'é'.repeat(62) })
    }).toThrow(`\`reason\` is 124 bytes in UTF-8, over the ${MAX_CLOSE_REASON_BYTES}-byte limit`)
  })

  it('allows any subprotocol when the offered ones are not given', () => {
    new WebsocketProtocolState().check({ type: 'websocket.accept', subprotocol: 'anything' })
    expect(() => {
      new WebsocketProtocolState({ subprotocols: [] }).check({ type: 'websocket.accept', subprotocol: 'x' })
    }).toThrow('(offered: none)')
  })

  it.each<[string, unknown, string]>([
    ['a non-object', 'websocket.send', 'Expected an event object with a string `type`, got "websocket.send"'],
    ['null', null, 'Expected an event object with a string `type`, got null'],
    ['no type', { text: 'a' }, 'Expected an event with a string `type`, got `type` undefined'],
    ['unknown type', { type: 'websocket.ping' }, '"websocket.ping" is not an event a WebSocket application'],
    ['text not a string', { type: 'websocket.send', text: 5 }, 'websocket.send `text` must be a string, got 5'],
    ['bytes not bytes', { type: 'websocket.send', bytes: [1] }, '`bytes` must be a Uint8Array, got an array'],
    ['subprotocol not a string', { type: 'websocket.accept', subprotocol: 1 }, '`subprotocol` must be a string'],
    ['headers not an array', { type: 'websocket.accept', headers: {} }, '`headers` must be an array'],
    ['a header not a pair', { type: 'websocket.accept', headers: [['a']] }, '`headers[0]` must be a [name, value]'],
    ['a bad header name', { type: 'websocket.accept', headers: [['a b', '1']] }, 'invalid header name "a b"'],
    ['CRLF in a header', { type: 'websocket.accept', headers: [['a', '1\r\nb: 2']] }, 'character HTTP forbids'],
    ['code not an integer', { type: 'websocket.close', code: 1000.5 }, '`code` must be an integer, got 1000.5'],
    ['reason not a string', { type: 'websocket.close', reason: 1 }, '`reason` must be a string, got 1'],
  ])('rejects %s with InvalidEventError', (_case, event, message) => {
    const state = new WebsocketProtocolState()
    const check = () => {
      state.check(loose(event))
    }
    if ((event as { type?: unknown } | null)?.type === 'websocket.send') state.check({ type: 'websocket.accept' })
    expect(check).toThrow(InvalidEventError)
    expect(check).toThrow(message)
  })

  it('reports a malformed event as InvalidEventError even when closed', () => {
    const state = accepted()
    state.markDisconnected()
    expect(() => {
      state.check({ type: 'websocket.send' })
    }).toThrow(InvalidEventError)
  })
})
