import { describe, expect, it, vi } from 'vitest'

import {
  InMemoryChannelLayer,
  WebsocketConsumer,
  type ChannelLayer,
  type GroupAddResult,
  type GroupHistory,
  type GroupPresence,
  type LayerStats,
  type Message,
  type ReceiveOptions,
} from '../../../src/index.js'
import { WebsocketCommunicator } from '../../../src/testing/index.js'

/** A custom layer with only the public `ChannelLayer` interface (no `listen`, no `takeBuffered`). */
class PlainLayer implements ChannelLayer {
  readonly signals: AbortSignal[] = []

  constructor(private readonly inner: InMemoryChannelLayer) {}

  get presence(): GroupPresence {
    return this.inner.presence
  }

  send(channel: string, message: Message): Promise<void> {
    return this.inner.send(channel, message)
  }
  receive(channel: string, options?: ReceiveOptions): Promise<Message> {
    if (options?.signal !== undefined) this.signals.push(options.signal)
    return this.inner.receive(channel, options)
  }
  newChannel(prefix?: string): Promise<string> {
    return this.inner.newChannel(prefix)
  }
  groupAdd(group: string, channel: string): Promise<GroupAddResult> {
    return this.inner.groupAdd(group, channel)
  }
  groupHistory(group: string): Promise<GroupHistory> {
    return this.inner.groupHistory(group)
  }
  groupDiscard(group: string, channel: string): Promise<void> {
    return this.inner.groupDiscard(group, channel)
  }
  groupSend(group: string, message: Message): Promise<void> {
    return this.inner.groupSend(group, message)
  }
  flush(): Promise<void> {
    return this.inner.flush()
  }
  close(): Promise<void> {
    return this.inner.close()
  }
  stats(): LayerStats {
    return this.inner.stats()
  }
}

class Steps extends WebsocketConsumer {
  static handled: number[] = []
  static channel = ''

  override async connect(): Promise<void> {
    Steps.channel = this.channelName
    await this.accept()
  }

  async step_item(message: { readonly type: 'step.item'; readonly n: number }): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 1))
    Steps.handled.push(message.n)
  }
}

const until = async (check: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 5))
  expect(check()).toBe(true)
}

async function connected(layer: ChannelLayer): Promise<WebsocketCommunicator> {
  Steps.handled = []
  const communicator = new WebsocketCommunicator(Steps.asApp(), '/', { layer })
  await communicator.connect()
  return communicator
}

describe('the run loop and its layer channel', () => {
  it('listens on a layer that can hand messages over: no receive, and nothing is held once it stops', async () => {
    const layer = new InMemoryChannelLayer({ capacity: 100 })
    const receive = vi.spyOn(layer, 'receive')
    const communicator = await connected(layer)
    for (let n = 0; n < 10; n++) await layer.send(Steps.channel, { type: 'step.item', n })
    await until(() => Steps.handled.length === 10)
    expect(Steps.handled).toEqual([...Array(10).keys()])
    expect(receive).not.toHaveBeenCalled()
    await communicator.disconnect()
    // Unlistened when the consumer stopped: a later message stays queued, unread.
    await layer.send(Steps.channel, { type: 'step.item', n: 10 })
    expect(layer.stats().received).toBe(10)
    expect(layer.takeBuffered(Steps.channel)).toEqual({ type: 'step.item', n: 10 })
    await layer.close()
  })

  it('awaits receive on a layer with only the public interface, and cancels it when the consumer stops', async () => {
    const inner = new InMemoryChannelLayer({ capacity: 100 })
    const layer = new PlainLayer(inner)
    const communicator = await connected(layer)
    for (let n = 0; n < 10; n++) await layer.send(Steps.channel, { type: 'step.item', n })
    await until(() => Steps.handled.length === 10)
    expect(Steps.handled).toEqual([...Array(10).keys()])
    expect(layer.signals.length).toBeGreaterThan(0)
    await communicator.disconnect()
    expect(layer.signals.every((signal) => signal.aborted)).toBe(true)
    await layer.send(Steps.channel, { type: 'step.item', n: 10 })
    expect(await inner.receive(Steps.channel)).toEqual({ type: 'step.item', n: 10 })
    await inner.close()
  })
})
