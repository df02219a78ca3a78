import { describe, expect, it } from 'vitest'

import * as json from '../../../consumers/json-websocket-consumer.js'
import * as websocket from '../../../consumers/websocket-consumer.js'
import * as client from '../../../src/client/index.js'
import { InvalidJsonError, SlowClientError, UnsupportedFrameError } from '../../../src/errors.js'
import * as closeCodes from '../../../src/protocol/close-codes.js'
import {
  CLOSE_CODE_RANGES,
  CLOSE_CODE_TABLE,
  CLOSE_GOING_AWAY,
  CLOSE_INTERNAL_ERROR,
  CLOSE_INVALID_PAYLOAD,
  CLOSE_MESSAGE_TOO_BIG,
  CLOSE_NORMAL,
  CLOSE_POLICY_VIOLATION,
  CLOSE_TRY_AGAIN_LATER,
  CLOSE_UNSUPPORTED_DATA,
  shouldReconnect,
} from '../../../src/protocol/close-codes.js'
import { isSendableCloseCode } from '../../../src/protocol/websocket-state.js'

const named = new Set<number>(CLOSE_CODE_TABLE.map((entry) => entry.code))

describe('the close-code table', () => {
  it("agrees with shouldReconnect on every named code's reconnect column", () => {
    const disagree = CLOSE_CODE_TABLE.filter((entry) => shouldReconnect(entry.code) !== entry.reconnect)
    expect(disagree).toEqual([])
  })

  it('agrees with shouldReconnect on every code of each range that no entry names', () => {
    for (const range of CLOSE_CODE_RANGES) {
      const codes = Array.from({ length: range.last - range.first + 1 }, (_, i) => range.first + i)
      const unnamed = codes.filter((code) => !named.has(code))
      expect(unnamed.length).toBeGreaterThan(0)
      expect(unnamed.filter((code) => shouldReconnect(code) !== range.reconnect)).toEqual([])
    }
  })

  it('retries unassigned codes, outside every entry and range', () => {
    for (const code of [1004, 1016, 2000, 2999, 5000]) {
      expect(named.has(code) || CLOSE_CODE_RANGES.some((r) => code >= r.first && code <= r.last)).toBe(false)
      expect(shouldReconnect(code)).toBe(true)
    }
  })

  it('names each code once, under the constant that holds it', () => {
    expect(named.size).toBe(CLOSE_CODE_TABLE.length)
    expect(new Set(CLOSE_CODE_TABLE.map((entry) => entry.name)).size).toBe(CLOSE_CODE_TABLE.length)
    const constants = closeCodes as unknown as Record<string, unknown>
    expect(CLOSE_CODE_TABLE.filter((entry) => constants[entry.name] !== entry.code)).toEqual([])
    // Every RFC 6455 code but the reserved 1004 is named.
    const rfc = Array.from({ length: 16 }, (_, i) => 1000 + i).filter((code) => code !== 1004)
    expect(rfc.filter((code) => !named.has(code))).toEqual([])
  })

  it('ranges do not overlap, and stay within what a close frame may carry', () => {
    const sorted = [...CLOSE_CODE_RANGES].sort((a, b) => a.first - b.first)
    for (const [i, range] of sorted.entries()) {
      expect(range.first).toBeLessThanOrEqual(range.last)
      expect(isSendableCloseCode(range.first) && isSendableCloseCode(range.last)).toBe(true)
      if (i > 0) expect(range.first).toBeGreaterThan(sorted[i - 1]!.last)
    }
  })

  it('marks as "never sent" exactly the codes a close frame cannot carry (websocket-state rules)', () => {
    const neverSent = CLOSE_CODE_TABLE.filter((entry) => entry.meaning.includes('never sent')).map((e) => e.code)
    const unsendable = CLOSE_CODE_TABLE.filter((entry) => !isSendableCloseCode(entry.code)).map((e) => e.code)
    expect(neverSent).toEqual(unsendable)
    expect(unsendable).toEqual([1005, 1006, 1015])
  })

  it('every code the server and consumers close with is sendable', () => {
    const sent = [
      CLOSE_NORMAL,
      CLOSE_GOING_AWAY,
      CLOSE_UNSUPPORTED_DATA,
      CLOSE_INVALID_PAYLOAD,
      CLOSE_POLICY_VIOLATION,
      CLOSE_MESSAGE_TOO_BIG,
      CLOSE_INTERNAL_ERROR,
      CLOSE_TRY_AGAIN_LATER,
    ]
    expect(sent.filter((code) => !isSendableCloseCode(code))).toEqual([])
    expect(sent).toEqual([1000, 1001, 1003, 1007, 1008, 1009, 1011, 1013])
  })
})

describe('errors that close a socket', () => {
  it.each([
    ['InvalidJsonError', InvalidJsonError, 1007, false],
    ['UnsupportedFrameError', UnsupportedFrameError, 1003, false],
    ['SlowClientError', SlowClientError, 1013, true],
  ] as const)('%s carries its close code, static and own, from the table', (_name, ErrorClass, code, reconnect) => {
    const error = new ErrorClass('bad', { cause: new Error('underneath') })
    expect(ErrorClass.closeCode).toBe(code)
    expect(error.closeCode).toBe(code)
    expect(Object.keys(error)).toContain('closeCode')
    expect(error.cause).toBeInstanceOf(Error)
    expect(named.has(error.closeCode) && isSendableCloseCode(error.closeCode)).toBe(true)
    expect(shouldReconnect(error.closeCode)).toBe(reconnect)
  })
})

describe('the aliases of the table', () => {
  it("keep the consumers' exported names and the client's shouldReconnect", () => {
    expect(json.CLOSE_INVALID_PAYLOAD).toBe(CLOSE_INVALID_PAYLOAD)
    expect(json.CLOSE_UNSUPPORTED_DATA).toBe(CLOSE_UNSUPPORTED_DATA)
    expect(websocket.CLOSE_INVALID_PAYLOAD).toBe(CLOSE_INVALID_PAYLOAD)
    expect(client.shouldReconnect).toBe(shouldReconnect)
  })
})
