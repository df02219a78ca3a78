import { describe, expect, it } from 'vitest'

import { InMemoryChannelLayer, StopConsumer, WebsocketConsumer, type WebsocketData } from '../../../src/index.js'
import { WebsocketCommunicator } from '../../../src/testing/index.js'

interface Step {
  readonly type: 'step.item'
  readonly n: number
}

/**
 * Records what it handles. The first layer message waits for `release`, so everything sent meanwhile is buffered
 * and then taken through the run loop's synchronous path (`takeBuffered`).
 */
class Recorder extends WebsocketConsumer {
  static handled: string[] = []
  static channel = ''
  static release: () => void = () => undefined
  static stopAt = -1

  override async connect(): Promise<void> {
    Recorder.channel = this.channelName
    await this.accept()
  }

  override async receive(data: WebsocketData): Promise<void> {
    Recorder.handled.push(`client:${'text' in data ? data.text : ''}`)
    await this.send({ text: 'ack' })
  }

  async step_item(message: Step): Promise<void> {
    if (message.n === 0) await new Promise<void>((resolve) => (Recorder.release = resolve))
    Recorder.handled.push(`layer:${message.n}`)
    if (message.n === Recorder.stopAt) throw new StopConsumer()
  }
}

async function started(): Promise<{ layer: InMemoryChannelLayer; communicator: WebsocketCommunicator }> {
  Recorder.handled = []
  Recorder.stopAt = -1
  const layer = new InMemoryChannelLayer({ capacity: 1000 })
  const communicator = new WebsocketCommunicator(Recorder.asApp(), '/', { layer })
  await communicator.connect()
  return { layer, communicator }
}

const until = async (check: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 5))
  expect(check()).toBe(true)
}

describe('the run loop', () => {
  it('handles buffered layer messages in order, one at a time', async () => {
    const { layer, communicator } = await started()
    for (let n = 0; n < 50; n++) await layer.send(Recorder.channel, { type: 'step.item', n })
    Recorder.release()
    await until(() => Recorder.handled.length === 50)
    expect(Recorder.handled).toEqual(Array.from({ length: 50 }, (_, n) => `layer:${n}`))
    await communicator.disconnect()
  })

  it('lets a client event that arrives during a burst in between, without losing or reordering messages', async () => {
    const { layer, communicator } = await started()
    for (let n = 0; n < 20; n++) await layer.send(Recorder.channel, { type: 'step.item', n })
    await communicator.sendTo({ text: 'hello' })
    Recorder.release()
    expect(await communicator.receiveFrom()).toBe('ack')
    await until(() => Recorder.handled.length === 21)
    const layerSteps = Recorder.handled.filter((entry) => entry.startsWith('layer:'))
    expect(layerSteps).toEqual(Array.from({ length: 20 }, (_, n) => `layer:${n}`))
    // Serialised with the layer messages, and not behind the whole burst: FIFO on the handler lock.
    const clientAt = Recorder.handled.indexOf('client:hello')
    expect(clientAt).toBeGreaterThan(0)
    expect(clientAt).toBeLessThan(20)
    await communicator.disconnect()
  })

  it('stops at StopConsumer and leaves the rest of the burst in the channel', async () => {
    const { layer, communicator } = await started()
    Recorder.stopAt = 5
    for (let n = 0; n < 10; n++) await layer.send(Recorder.channel, { type: 'step.item', n })
    Recorder.release()
    await communicator.wait()
    expect(Recorder.handled).toEqual([0, 1, 2, 3, 4, 5].map((n) => `layer:${n}`))
    // Never taken, so still there, in order: the synchronous path takes a message only to handle it.
    for (let n = 6; n < 10; n++) expect(await layer.receive(Recorder.channel)).toEqual({ type: 'step.item', n })
  })
})
