/**
 * `joinGroup(group, { recover, presence })` on WebSocket consumers, and the server's half of the recovery protocol
 * (docs/topics/recovery-protocol.md): the position a client hands back in the socket URL, the `switchyard.recovery`
 * frame before any message of the group, and groups (and presence) left on disconnect. On the in-memory layer.
 */
import { afterEach, describe, expect, it } from 'vitest'

import {
  HistoryNotEnabledError,
  InMemoryChannelLayer,
  InvalidOptionError,
  JsonWebsocketConsumer,
  positionOf,
  PresenceNotEnabledError,
  type JoinGroupOptions,
  type JoinGroupResult,
  type Message,
  type StreamPosition,
  WebsocketConsumer,
} from '../../../src/index.js'
import { handedBackPosition } from '../../../src/consumer-runtime/join-group.js'
import { WebsocketCommunicator } from '../../../src/testing/index.js'
import { captureLogs } from '../routing/fakes.js'

const HISTORY = { 'chat.*': { size: 5, ttlMs: 60_000 } }
const layers: InMemoryChannelLayer[] = []
afterEach(async () => {
  await Promise.all(layers.splice(0).map((layer) => layer.close()))
})

function historyLayer(): InMemoryChannelLayer {
  const layer = new InMemoryChannelLayer({ history: HISTORY, presence: ['chat.*'] })
  layers.push(layer)
  return layer
}

/** Joins `chat.lobby` with `Room.options`, before `accept()` or after it, and forwards every chat message as is. */
class Room extends JsonWebsocketConsumer {
  static options: JoinGroupOptions = { recover: true }
  static acceptFirst = false
  static results: JoinGroupResult[] = []

  override async connect(): Promise<void> {
    if (Room.acceptFirst) await this.accept()
    Room.results.push(await this.joinGroup('chat.lobby', Room.options))
    if (!Room.acceptFirst) await this.accept()
  }

  async chat_message(event: Message): Promise<void> {
    await this.sendJson(event)
  }
}

afterEach(() => {
  Room.options = { recover: true }
  Room.acceptFirst = false
  Room.results = []
})

async function say(layer: InMemoryChannelLayer, ...texts: string[]): Promise<void> {
  for (const text of texts) await layer.groupSend('chat.lobby', { type: 'chat.message', text })
}

async function connectRoom(layer: InMemoryChannelLayer, query = '', logger?: ReturnType<typeof captureLogs>) {
  const communicator = new WebsocketCommunicator(Room.asApp(), `/ws/chat/${query}`, {
    layer,
    ...(logger === undefined ? {} : { logger: logger.logger }),
  })
  expect(await communicator.connect()).toMatchObject({ connected: true })
  return communicator
}

const handBack = (position: StreamPosition, group = 'chat.lobby'): string =>
  `?__position__=${encodeURIComponent(`${group}:${position.offset}:${position.epoch}`)}`

interface Frame {
  type: string
  text?: string
  recovered?: boolean
  __position__?: { group: string; offset: number; epoch: string }
}

describe('joinGroup with recover', () => {
  it('on a first connection: a recovery frame with the starting position and no `recovered`', async () => {
    const layer = historyLayer()
    await say(layer, 'before')
    const room = await connectRoom(layer)
    const frame = (await room.receiveJsonFrom()) as Frame
    const epoch = frame.__position__?.epoch ?? ''
    expect(frame).toEqual({
      type: 'switchyard.recovery',
      group: 'chat.lobby',
      __position__: { group: 'chat.lobby', offset: 1, epoch },
    })
    expect(Room.results).toEqual([{ position: { offset: 1, epoch } }])
    await say(layer, 'live')
    expect(await room.receiveJsonFrom()).toMatchObject({
      text: 'live',
      __position__: { group: 'chat.lobby', offset: 2, epoch },
    })
    await room.disconnect()
  })

  it('replays what the client missed after the position it handed back, in order, after `recovered: true`', async () => {
    const layer = historyLayer()
    const first = await connectRoom(layer)
    await first.receiveJsonFrom()
    await say(layer, 'one', 'two')
    await first.receiveJsonFrom()
    const last = (await first.receiveJsonFrom()) as Frame
    await first.disconnect()
    await say(layer, 'three', 'four') // while the page is away

    const again = await connectRoom(layer, handBack(last.__position__!))
    expect(await again.receiveJsonFrom()).toEqual({ type: 'switchyard.recovery', group: 'chat.lobby', recovered: true })
    const missed = [(await again.receiveJsonFrom()) as Frame, (await again.receiveJsonFrom()) as Frame]
    expect(missed.map((frame) => [frame.text, frame.__position__?.offset])).toEqual([
      ['three', 3],
      ['four', 4],
    ])
    expect(Room.results.at(-1)).toEqual({ position: { offset: 4, epoch: last.__position__!.epoch }, recovered: true })
    await say(layer, 'five')
    expect(await again.receiveJsonFrom()).toMatchObject({ text: 'five', __position__: { offset: 5 } })
    await again.receiveNothing()
    await again.disconnect()
  })

  it('says `recovered: false` with the current position when the history overflowed, and replays nothing', async () => {
    const layer = historyLayer()
    await say(layer, 'one')
    const first = await connectRoom(layer)
    const start = ((await first.receiveJsonFrom()) as Frame).__position__!
    await first.disconnect()
    await say(layer, ...Array.from({ length: 8 }, (_, i) => `m${i}`)) // history keeps 5

    const again = await connectRoom(layer, handBack(start))
    expect(await again.receiveJsonFrom()).toEqual({
      type: 'switchyard.recovery',
      group: 'chat.lobby',
      recovered: false,
      __position__: { group: 'chat.lobby', offset: 9, epoch: start.epoch },
    })
    await again.receiveNothing()
    expect(Room.results.at(-1)).toEqual({ position: { offset: 9, epoch: start.epoch }, recovered: false })
    await again.disconnect()
  })

  it('says `recovered: false` for another epoch', async () => {
    const layer = historyLayer()
    await say(layer, 'one')
    const room = await connectRoom(layer, handBack({ offset: 1, epoch: 'not-this-one' }))
    expect(await room.receiveJsonFrom()).toMatchObject({ recovered: false, __position__: { offset: 1 } })
    await room.disconnect()
  })

  it.for([
    ['a negative offset', 'chat.lobby:-1:e'],
    ['an offset in exponent form', 'chat.lobby:1e3:e'],
    ['an unsafe offset', 'chat.lobby:99999999999999999:e'],
    ['no epoch', 'chat.lobby:3'],
    ['an epoch over 64 characters', `chat.lobby:3:${'e'.repeat(65)}`],
  ])('ignores a position handed back with %s: `recovered: false`, logged at info', async ([, value]) => {
    const layer = historyLayer()
    await say(layer, 'one', 'two')
    const logs = captureLogs()
    const room = await connectRoom(layer, `?__position__=${encodeURIComponent(value ?? '')}`, logs)
    expect(await room.receiveJsonFrom()).toMatchObject({ recovered: false, __position__: { offset: 2 } })
    await room.receiveNothing()
    expect(logs.lines).toContainEqual(
      expect.objectContaining({ level: 30, code: 'SWY_INVALID_OPTION', group: 'chat.lobby' }),
    )
    await room.disconnect()
  })

  it('sends the recovery frame at once when it joins after accept()', async () => {
    Room.acceptFirst = true
    const layer = historyLayer()
    const room = await connectRoom(layer)
    expect(await room.receiveJsonFrom()).toMatchObject({ type: 'switchyard.recovery', group: 'chat.lobby' })
    await room.disconnect()
  })

  it('takes an explicit position too, validated', async () => {
    const layer = historyLayer()
    await say(layer, 'one', 'two')
    const { position } = await layer.groupAdd('chat.lobby', await layer.newChannel())
    Room.options = { recover: { offset: 1, epoch: position!.epoch } }
    const room = await connectRoom(layer)
    expect(await room.receiveJsonFrom()).toMatchObject({ recovered: true })
    expect(await room.receiveJsonFrom()).toMatchObject({ text: 'two' })
    await room.disconnect()

    Room.options = { recover: { offset: -1, epoch: 'e' } }
    const bad = new WebsocketCommunicator(Room.asApp(), '/ws/chat/', { layer })
    await expect(bad.connect()).rejects.toBeInstanceOf(InvalidOptionError)
  })

  it('throws HistoryNotEnabledError on a group without history', async () => {
    const layer = new InMemoryChannelLayer()
    layers.push(layer)
    const room = new WebsocketCommunicator(Room.asApp(), '/ws/chat/', { layer })
    await expect(room.connect()).rejects.toBeInstanceOf(HistoryNotEnabledError)
  })

  it('leaves the group on disconnect, like static groups', async () => {
    const layer = historyLayer()
    // Where memory-groups.ts keeps the memberships.
    const groups = (layer as unknown as { groups: { groups: Map<string, Map<string, unknown>> } }).groups.groups
    const room = await connectRoom(layer)
    await room.receiveJsonFrom()
    expect(groups.get('chat.lobby')?.size).toBe(1)
    await room.disconnect()
    expect(groups.get('chat.lobby')?.size ?? 0).toBe(0)
  })

  it('forwards a layer message with its __position__, which positionOf reads', async () => {
    const layer = historyLayer()
    const room = await connectRoom(layer)
    await room.receiveJsonFrom()
    await say(layer, 'hi')
    const frame = (await room.receiveJsonFrom()) as Readonly<Record<string, unknown>>
    expect(positionOf(frame)).toMatchObject({ group: 'chat.lobby', offset: 1 })
    await room.disconnect()
  })
})

describe('the recovery frame', () => {
  it('goes through encodeJson on a JsonWebsocketConsumer, and is JSON text on a plain WebsocketConsumer', async () => {
    class Wrapped extends Room {
      override encodeJson(content: unknown): string {
        return JSON.stringify({ wrapped: content })
      }
    }
    class Plain extends WebsocketConsumer {
      override async connect(): Promise<void> {
        await this.joinGroup('chat.plain', { recover: true })
        await this.accept()
      }
    }
    const layer = historyLayer()
    const wrapped = new WebsocketCommunicator(Wrapped.asApp(), '/ws/chat/', { layer })
    await wrapped.connect()
    expect(await wrapped.receiveJsonFrom()).toMatchObject({ wrapped: { type: 'switchyard.recovery' } })
    await wrapped.disconnect()
    const plain = new WebsocketCommunicator(Plain.asApp(), '/ws/plain/', { layer })
    await plain.connect()
    expect(JSON.parse(String(await plain.receiveFrom()))).toMatchObject({
      type: 'switchyard.recovery',
      group: 'chat.plain',
    })
    await plain.disconnect()
  })

  it('is not sent without recover', async () => {
    Room.options = {}
    const room = await connectRoom(historyLayer())
    await room.receiveNothing()
    expect(Room.results).toEqual([{ position: { offset: 0, epoch: expect.any(String) as string } }])
    await room.disconnect()
  })
})

describe('joinGroup with presence', () => {
  it('enters the presence list with its info, and leaves it on disconnect', async () => {
    Room.options = { presence: { name: 'ada' } }
    const layer = historyLayer()
    const room = await connectRoom(layer)
    const list = await layer.presence.list('chat.lobby')
    expect(list.map((entry) => entry.info)).toEqual([{ name: 'ada' }])
    await room.disconnect()
    expect(await layer.presence.list('chat.lobby')).toEqual([])
  })

  it('throws PresenceNotEnabledError on a layer without presence for the group', async () => {
    Room.options = { presence: { name: 'ada' } }
    const layer = new InMemoryChannelLayer()
    layers.push(layer)
    const room = new WebsocketCommunicator(Room.asApp(), '/ws/chat/', { layer })
    await expect(room.connect()).rejects.toBeInstanceOf(PresenceNotEnabledError)
  })

  it('rejects presence info that is not an object', async () => {
    Room.options = { presence: 'ada' as never }
    const room = new WebsocketCommunicator(Room.asApp(), '/ws/chat/', { layer: historyLayer() })
    await expect(room.connect()).rejects.toBeInstanceOf(InvalidOptionError)
  })
})

describe('handedBackPosition', () => {
  const query = (...values: string[]): string =>
    values.map((value) => `__position__=${encodeURIComponent(value)}`).join('&')

  it('finds the group’s own value among others, the epoch being the rest after the offset', () => {
    const q = `room=lobby&${query('chat.lobby2:9:x', 'chat.lobby:12:ab:cd', 'chat.lobby:13:later')}`
    expect(handedBackPosition(q, 'chat.lobby')).toEqual({ kind: 'position', position: { offset: 12, epoch: 'ab:cd' } })
    expect(handedBackPosition(q, 'chat.lobby2')).toEqual({ kind: 'position', position: { offset: 9, epoch: 'x' } })
    expect(handedBackPosition(q, 'chat.other')).toEqual({ kind: 'none' })
    expect(handedBackPosition('', 'chat.lobby')).toEqual({ kind: 'none' })
  })

  it.for(['chat.lobby:', 'chat.lobby:x:e', 'chat.lobby: 1:e', 'chat.lobby:0x10:e', 'chat.lobby:1.5:e'])(
    'calls %j invalid, never throws',
    (value) => {
      expect(handedBackPosition(query(value), 'chat.lobby').kind).toBe('invalid')
    },
  )
})
