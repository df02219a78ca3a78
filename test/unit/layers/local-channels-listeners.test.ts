import { describe, expect, it } from 'vitest'

import type { Message } from '../../../src/layers/channel-layer.js'
import type { ChannelListener } from '../../../src/layers/channel-listener.js'
import { HANDED, LocalChannels, QUEUED } from '../../../src/layers/local-channels.js'

class Recorder implements ChannelListener {
  readonly messages: Message[] = []
  channelMessage(message: Message): void {
    this.messages.push(message)
  }
  channelClosed(): void {
    // Not needed here.
  }
}

const NEVER = Number.POSITIVE_INFINITY

function channels(): LocalChannels {
  return new LocalChannels(
    () => 10,
    () => undefined,
  )
}

describe('LocalChannels with listeners', () => {
  it('keeps a channel between a handed message and its listener coming back, and forgets it once the listener stops', () => {
    const local = channels()
    const listener = new Recorder()
    expect(local.takeOrListen('c!1', listener)).toBeUndefined()
    expect(local.offer('c!1', { type: 'a.b' }, NEVER)).toBe(HANDED)
    // Busy handling: not registered, but the state waits for it.
    expect(local.hasWaiters('c!1')).toBe(false)
    expect(local.size).toBe(1)
    expect(local.offer('c!1', { type: 'c.d' }, NEVER)).toBe(QUEUED)
    expect(local.takeOrListen('c!1', listener)).toEqual({ type: 'c.d' })
    expect(local.takeOrListen('c!1', listener)).toBeUndefined()
    expect(local.offer('c!1', { type: 'e.f' }, NEVER)).toBe(HANDED)
    expect(listener.messages).toEqual([{ type: 'a.b' }, { type: 'e.f' }])
    // Stopped while handling: unlisten finds it unregistered, and the empty state goes.
    expect(local.unlisten('c!1', listener)).toBe(false)
    expect(local.size).toBe(0)
  })

  it('forgets a channel whose registered listener unlistens, and keeps one with messages queued', () => {
    const local = channels()
    const listener = new Recorder()
    local.takeOrListen('c!1', listener)
    expect(local.unlisten('c!1', listener)).toBe(true)
    expect(local.size).toBe(0)
    expect(local.offer('c!2', { type: 'a.b' }, NEVER)).toBe(QUEUED)
    expect(local.unlisten('c!2', listener)).toBe(false)
    expect(local.size).toBe(1)
    expect(local.take('c!2')).toEqual({ type: 'a.b' })
    expect(local.size).toBe(0)
  })

  it('a pending receive handed its message leaves nothing behind, as before', async () => {
    const local = channels()
    const received = local.wait('c!1', undefined)
    expect(local.offer('c!1', { type: 'a.b' }, NEVER)).toBe(HANDED)
    expect(await received).toEqual({ type: 'a.b' })
    expect(local.size).toBe(0)
  })

  it('skips expired messages when a listener comes back, then registers it', () => {
    const expired: string[] = []
    const local = new LocalChannels(
      () => 10,
      (entry) => expired.push(entry.message.type),
    )
    const listener = new Recorder()
    expect(local.offer('c!1', { type: 'old.one' }, Date.now() - 1)).toBe(QUEUED)
    expect(local.takeOrListen('c!1', listener)).toBeUndefined()
    expect(expired).toEqual(['old.one'])
    expect(local.offer('c!1', { type: 'new.one' }, NEVER)).toBe(HANDED)
    expect(listener.messages).toEqual([{ type: 'new.one' }])
  })

  it('lets only the listener it last handed a message to take or listen again unchecked', () => {
    const local = channels()
    const listener = new Recorder()
    const other = new Recorder()
    // Never handed anything: the full `listen` path (name checks, then takeOrListen) is the way.
    expect(local.takeOrListenAgain('c!1', listener)).toBeUndefined()
    local.takeOrListen('c!1', listener)
    expect(local.offer('c!1', { type: 'a.b' }, NEVER)).toBe(HANDED)
    expect(local.takeOrListenAgain('c!1', other)).toBeUndefined()
    expect(local.hasWaiters('c!1')).toBe(false)
    // Back with nothing queued: registered (null), and handed the next message.
    expect(local.takeOrListenAgain('c!1', listener)).toBeNull()
    expect(local.offer('c!1', { type: 'c.d' }, NEVER)).toBe(HANDED)
    // Back with a message queued meanwhile: it takes it, and is not registered.
    expect(local.offer('c!1', { type: 'e.f' }, NEVER)).toBe(QUEUED)
    expect(local.takeOrListenAgain('c!1', listener)).toEqual({ type: 'e.f' })
    expect(local.hasWaiters('c!1')).toBe(false)
    expect(listener.messages).toEqual([{ type: 'a.b' }, { type: 'c.d' }])
    // Emptied and forgotten: a state reused for another channel is not this listener's.
    expect(local.size).toBe(0)
    local.takeOrListen('c!2', other)
    expect(local.takeOrListenAgain('c!2', listener)).toBeUndefined()
    expect(local.takeOrListenAgain('c!1', listener)).toBeUndefined()
    // Stopped while registered: unlisten forgets it, so it cannot come back unchecked.
    expect(local.offer('c!2', { type: 'g.h' }, NEVER)).toBe(HANDED)
    expect(local.takeOrListenAgain('c!2', other)).toBeNull()
    expect(local.unlisten('c!2', other)).toBe(true)
    expect(local.takeOrListenAgain('c!2', other)).toBeUndefined()
  })
})
