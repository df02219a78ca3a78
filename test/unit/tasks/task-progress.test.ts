// progressGroup and prepareProgress (issue 17): a valid group name for any task id, and progress data checked as a
// message's data is.
import { describe, expect, it } from 'vitest'

import { MessageNotSerializableError, MessageTooLargeError } from '../../../src/errors.js'
import { assertGroupName } from '../../../src/layers/names.js'
import { MAX_PROGRESS_BYTES, prepareProgress, progressGroup } from '../../../src/tasks/task-progress.js'

describe('progressGroup', () => {
  it('keeps a group-safe id of up to 85 characters as it is, and hashes every other', () => {
    expect(progressGroup('0123456789abcdef0123456789abcdef')).toBe('task.progress.0123456789abcdef0123456789abcdef')
    expect(progressGroup('a'.repeat(85))).toBe(`task.progress.${'a'.repeat(85)}`)
    expect(progressGroup('a'.repeat(86))).toMatch(/^task\.progress-sha256\.[0-9a-f]{64}$/)
    expect(progressGroup('invoice 2025/17')).toMatch(/^task\.progress-sha256\.[0-9a-f]{64}$/)
    expect(progressGroup('')).toMatch(/^task\.progress-sha256\./)
  })

  it('gives valid, distinct names, even to an id that mimics a hashed name', () => {
    const hashed = progressGroup('x y')
    // `task.progress.` + an id never starts `task.progress-`: a verbatim name cannot equal a hashed one.
    const ids = ['x y', hashed.slice('task.progress-'.length), 'ü', '!', 'a!b', 'é'.repeat(300)]
    const names = ids.map(progressGroup)
    for (const name of names) {
      expect(() => {
        assertGroupName(name)
      }).not.toThrow()
    }
    expect(new Set(names).size).toBe(ids.length)
  })
})

describe('prepareProgress', () => {
  it('returns a frozen task.progress event and its data as JSON', () => {
    const { event, json } = prepareProgress('t', { done: 1, of: [1, 2] })
    expect(event).toEqual({ type: 'task.progress', taskId: 't', data: { done: 1, of: [1, 2] } })
    expect(Object.isFrozen(event)).toBe(true)
    expect(json).toBe('{"done":1,"of":[1,2]}')
    expect(prepareProgress('t', null).json).toBe('null')
  })

  it('refuses what is not plain JSON, bytes included, and data over MAX_PROGRESS_BYTES', () => {
    for (const bad of [undefined, new Date(), new Uint8Array(2), { n: Infinity }, () => 1, 1n]) {
      expect(() => prepareProgress('t', bad)).toThrow(MessageNotSerializableError)
    }
    const cycle: Record<string, unknown> = {}
    cycle.self = cycle
    expect(() => prepareProgress('t', cycle)).toThrow(MessageNotSerializableError)
    expect(() => prepareProgress('t', 'x'.repeat(MAX_PROGRESS_BYTES - 8))).not.toThrow()
    expect(() => prepareProgress('t', 'x'.repeat(MAX_PROGRESS_BYTES))).toThrow(MessageTooLargeError)
  })
})
