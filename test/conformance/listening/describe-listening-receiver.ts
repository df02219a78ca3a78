import { describe, expect, it } from 'vitest'

import type { ChannelLayer, LayerOptions, Message } from '../../../src/index.js'
import {
  listeningReceiverOf,
  type ChannelListener,
  type ListeningReceiver,
} from '../../../src/layers/channel-listener.js'
import { layerTestContext, receiveWithin, sleep, type LayerTestContext, type MakeLayer } from '../context.js'

/** Records what it is handed; re-registers after each message while `relisten` is set. */
class Recorder implements ChannelListener {
  readonly messages: Message[] = []
  closed: unknown = undefined
  relisten = true

  constructor(
    private readonly layer: ListeningReceiver,
    private readonly channel: string,
  ) {}

  listen(): boolean {
    return this.layer.listen(this.channel, this)
  }

  channelMessage(message: Message): void {
    this.messages.push(message)
    if (this.relisten) this.listen()
  }

  channelClosed(error: unknown): void {
    this.closed = error
  }

  /** Waits until `count` messages arrived (Redis delivers through its reader), at most `timeoutMs`. */
  async received(count: number, timeoutMs = 2000): Promise<Message[]> {
    const deadline = Date.now() + timeoutMs
    while (this.messages.length < count && Date.now() < deadline) await sleep(5)
    return this.messages
  }
}

async function listening(
  ctx: LayerTestContext,
  options?: LayerOptions,
): Promise<{ layer: ChannelLayer; listener: ListeningReceiver; channel: string }> {
  const layer = await ctx.make(options)
  const listener = listeningReceiverOf(layer)
  if (listener === undefined) throw new Error('the layer has no listen and unlisten: this suite is for layers that do')
  return { layer, listener, channel: await layer.newChannel() }
}

const types = (messages: readonly Message[]): unknown[] => messages.map((message) => message.type)

/**
 * The `ListeningReceiver` extension (docs/channel-layer-spec.md, "Extensions") as one suite, for layers that have
 * it: `describeListeningReceiver('memory', (options) => new InMemoryChannelLayer(options))`. A listener is one more
 * waiter on a channel, so `receive`'s ordering, counting and cancellation rules hold for it too.
 */
export function describeListeningReceiver(name: string, makeLayer: MakeLayer): void {
  describe(`listeners (ListeningReceiver): ${name}`, () => {
    const ctx = layerTestContext(makeLayer)
    it('hands queued then arriving messages in order, each counted as received once', async () => {
      const { layer, listener, channel } = await listening(ctx)
      await layer.send(channel, { type: 'm.1' })
      await layer.send(channel, { type: 'm.2' })
      const recorder = new Recorder(listener, channel)
      expect(recorder.listen()).toBe(true)
      expect(types(await recorder.received(2))).toEqual(['m.1', 'm.2'])
      await layer.send(channel, { type: 'm.3' })
      await layer.groupAdd('listeners', channel)
      await layer.groupSend('listeners', { type: 'm.4' })
      await layer.send(channel, { type: 'm.5' })
      expect(types(await recorder.received(5))).toEqual(['m.1', 'm.2', 'm.3', 'm.4', 'm.5'])
      expect(layer.stats().received).toBe(5)
    })

    it('hands one message per listen: the rest queue for the next listen or receive', async () => {
      const { layer, listener, channel } = await listening(ctx)
      const recorder = new Recorder(listener, channel)
      recorder.relisten = false
      expect(recorder.listen()).toBe(true)
      await layer.send(channel, { type: 'm.1' })
      await layer.send(channel, { type: 'm.2' })
      await layer.send(channel, { type: 'm.3' })
      expect(types(await recorder.received(1))).toEqual(['m.1'])
      await sleep(50)
      expect(recorder.messages).toHaveLength(1)
      expect(recorder.listen()).toBe(true)
      expect(types(await recorder.received(2))).toEqual(['m.1', 'm.2'])
      expect((await layer.receive(channel)).type).toBe('m.3')
      expect(layer.stats().received).toBe(3)
    })

    it('keeps what arrives while the listener is busy within the channel capacity, as for receive', async () => {
      const { layer, listener, channel } = await listening(ctx, { capacity: 2 })
      const recorder = new Recorder(listener, channel)
      recorder.relisten = false
      expect(recorder.listen()).toBe(true)
      for (let n = 1; n <= 5; n++) await layer.send(channel, { type: `m.${n}` }).catch(() => undefined)
      expect(types(await recorder.received(1))).toEqual(['m.1'])
      // Redis drops what a stuck channel cannot hold once its reader stops waiting for room (250 ms).
      await sleep(600)
      const rest: Message[] = []
      for (let message = await receiveWithin(layer, channel, 300); message !== undefined;) {
        rest.push(message)
        message = await receiveWithin(layer, channel, 300)
      }
      expect(types(rest)).toEqual(['m.2', 'm.3'])
      const { received, rejected, dropped } = layer.stats()
      expect({ received, refused: rejected + dropped }).toEqual({ received: 3, refused: 2 })
    })

    it('unlisten stops a registration: what arrives after it stays queued', async () => {
      const { layer, listener, channel } = await listening(ctx)
      const recorder = new Recorder(listener, channel)
      expect(recorder.listen()).toBe(true)
      expect(listener.unlisten(channel, recorder)).toBe(true)
      expect(listener.unlisten(channel, recorder)).toBe(false)
      await layer.send(channel, { type: 'after.unlisten' })
      await sleep(50)
      expect(recorder.messages).toEqual([])
      expect(layer.stats().received).toBe(0)
      expect(await receiveWithin(layer, channel, 1000)).toEqual({ type: 'after.unlisten' })
      expect(layer.stats().received).toBe(1)
    })

    it('never loses or reorders a message when listeners come and go around sends', async () => {
      const { layer, listener, channel } = await listening(ctx)
      const recorder = new Recorder(listener, channel)
      const sent: string[] = []
      const sends: Promise<void>[] = []
      for (let i = 0; i < 40; i++) {
        sent.push(`m.${i}`)
        sends.push(layer.send(channel, { type: `m.${i}` }))
        // Alternately registered and not while messages are on their way; unlisten of a listener whose message
        // was just handed over reports false, and it is registered again after that message anyway.
        if (i % 2 === 0) recorder.listen()
        else listener.unlisten(channel, recorder)
        if (i % 5 === 0) await sleep(1)
      }
      await Promise.all(sends)
      listener.unlisten(channel, recorder)
      recorder.relisten = false
      const rest: Message[] = []
      for (let message = await receiveWithin(layer, channel, 300); message !== undefined;) {
        rest.push(message)
        message = await receiveWithin(layer, channel, 300)
      }
      expect(types([...recorder.messages, ...rest])).toEqual(sent)
      expect(layer.stats().received).toBe(40)
    })

    it('tells a registered listener when the layer closes, and refuses listeners after', async () => {
      const { layer, listener, channel } = await listening(ctx)
      const recorder = new Recorder(listener, channel)
      expect(recorder.listen()).toBe(true)
      await layer.close()
      expect(recorder.closed).toMatchObject({ code: 'SWY_LAYER_CLOSED' })
      expect(recorder.listen()).toBe(false)
    })

    it('refuses channels that are not its own process-specific ones: receive is the way there', async () => {
      const { listener, channel } = await listening(ctx)
      const recorder = new Recorder(listener, channel)
      expect(listener.listen('normal-channel', recorder)).toBe(false)
      expect(listener.listen(`specific.${'0'.repeat(32)}!abc`, recorder)).toBe(false)
      expect(listener.listen(`${channel}/bad`, recorder)).toBe(false)
    })
  })
}
