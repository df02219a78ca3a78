import { describe, expect, it } from 'vitest'

import { InMemoryChannelLayer, WebsocketConsumer, type WebsocketData } from '../../../src/index.js'
import { WebsocketCommunicator } from '../../../src/testing/index.js'
import { receiveWithin } from '../../conformance/context.js'

// Issue 16: "A connection's presence ends when it disconnects".

class Lobby extends WebsocketConsumer {
  static channels: string[] = []

  override async connect(): Promise<void> {
    Lobby.channels.push(this.channelName)
    await this.channelLayer.presence.join('chat.lobby', this.channelName, { user: 'ada' })
    // Someone else's entry, made by this consumer: not its own presence, so it stays.
    await this.channelLayer.presence.join('chat.lobby', 'user.bot')
    await this.accept()
  }

  override async receive(data: WebsocketData): Promise<void> {
    const text = 'text' in data ? data.text : ''
    if (text === 'leave') await this.channelLayer.presence.leave('chat.lobby', this.channelName)
    if (text === 'boom') throw new Error('handler bug')
    await this.send({ text: 'ok' })
  }
}

async function connected(layer: InMemoryChannelLayer) {
  const watcher = await layer.newChannel()
  await layer.groupAdd('chat.lobby', watcher)
  const communicator = new WebsocketCommunicator(Lobby.asApp(), '/', { layer })
  await communicator.connect()
  const channel = Lobby.channels.at(-1)!
  expect((await layer.presence.list('chat.lobby')).map((entry) => entry.channel)).toEqual([channel, 'user.bot'])
  for (let i = 0; i < 2; i++)
    expect(await receiveWithin(layer, watcher, 1_000)).toMatchObject({ type: 'presence.join' })
  return { watcher, communicator, channel }
}

describe('a consumer’s presence', () => {
  it('ends when it disconnects, announced once, and leaves entries of other channels alone', async () => {
    const layer = new InMemoryChannelLayer({ presence: ['chat.*'] })
    const { watcher, communicator, channel } = await connected(layer)
    await communicator.disconnect()
    expect((await layer.presence.list('chat.lobby')).map((entry) => entry.channel)).toEqual(['user.bot'])
    expect(await receiveWithin(layer, watcher, 1_000)).toEqual({ type: 'presence.leave', channel })
    expect(await receiveWithin(layer, watcher, 50)).toBeUndefined()
    await layer.close()
  })

  it('ends when its handler crashes', async () => {
    const layer = new InMemoryChannelLayer({ presence: ['chat.*'] })
    const { communicator } = await connected(layer)
    await communicator.sendTo({ text: 'boom' })
    await expect(communicator.wait()).rejects.toThrow('handler bug')
    expect((await layer.presence.list('chat.lobby')).map((entry) => entry.channel)).toEqual(['user.bot'])
    await layer.close()
  })

  it('is not left twice after the consumer left it itself', async () => {
    const layer = new InMemoryChannelLayer({ presence: ['chat.*'] })
    const { watcher, communicator, channel } = await connected(layer)
    await communicator.sendTo({ text: 'leave' })
    expect(await communicator.receiveFrom()).toBe('ok')
    expect(await receiveWithin(layer, watcher, 1_000)).toEqual({ type: 'presence.leave', channel })
    await communicator.disconnect()
    expect(await receiveWithin(layer, watcher, 50)).toBeUndefined()
    expect((await layer.presence.list('chat.lobby')).map((entry) => entry.channel)).toEqual(['user.bot'])
    await layer.close()
  })
})
