import { describe, expect, it } from 'vitest'

import { Inbox } from '../../src/server/inbox.js'

interface Event {
  readonly type: string
}

describe('Inbox lifecycle observation', () => {
  it('shows lifecycle events to the observer just before the receiver gets them, and client frames not at all', async () => {
    const inbox = new Inbox<Event>({ maxEvents: 10, maxBytes: 1000 })
    const seen: string[] = []
    inbox.observeLifecycle({ lifecycleReceived: (event) => seen.push(`seen ${event.type}`) })
    inbox.pushAlways({ type: 'websocket.connect' })
    expect(inbox.push({ type: 'websocket.receive' }, 5)).toBe(true)
    seen.push(`got ${(await inbox.receive()).type}`)
    seen.push(`got ${(await inbox.receive()).type}`)
    const pending = inbox.receive()
    inbox.pushAlways({ type: 'websocket.disconnect' })
    expect(seen).not.toContain('seen websocket.disconnect')
    seen.push(`got ${(await pending).type}`)
    expect(seen).toEqual([
      'seen websocket.connect',
      'got websocket.connect',
      'got websocket.receive',
      'seen websocket.disconnect',
      'got websocket.disconnect',
    ])
  })

  it('hands a pushed frame to a pending receive as it is', async () => {
    const inbox = new Inbox<Event>({ maxEvents: 1, maxBytes: 10 })
    inbox.observeLifecycle({
      lifecycleReceived: () => {
        throw new Error('client frames are not observed')
      },
    })
    const pending = inbox.receive()
    const frame = { type: 'websocket.receive' }
    expect(inbox.push(frame, 5)).toBe(true)
    await expect(pending).resolves.toBe(frame)
  })
})
