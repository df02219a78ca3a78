/** docs/tutorial/part-2.md: part 1's app with part 2's chat.ts, so a message reaches every socket of its room. */
import { writeFile } from 'node:fs/promises'

import { describe, expect, it } from 'vitest'

import { InMemoryChannelLayer, type Application } from 'switchyard-channels'
import { WebsocketCommunicator } from 'switchyard-channels/testing'

import { docBlock, docProject } from './doc-blocks.js'

const samePage = { host: '127.0.0.1:8000', origin: 'http://127.0.0.1:8000' }

describe('docs/tutorial/part-2.md', () => {
  it('delivers to everyone in the room and no one else, ignores a message without text, leaves on disconnect', async () => {
    // The reader replaces part 1's chat.ts with part 2's and keeps the other files.
    const project = await docProject('docs/tutorial/part-1.md', [
      'app.ts',
      'pages.ts',
      'layer.ts',
      'index.html',
      'room.html',
    ])
    await writeFile(project.path('chat.ts'), docBlock('docs/tutorial/part-2.md', 'chat.ts'))
    const { application } = await project.import<{ application: Application }>('app.ts')
    const layer = new InMemoryChannelLayer()
    const join = async (room: string): Promise<WebsocketCommunicator> => {
      const socket = new WebsocketCommunicator(application, `/ws/chat/${room}/`, { layer, headers: samePage })
      expect(await socket.connect()).toMatchObject({ connected: true })
      return socket
    }
    const ann = await join('lobby')
    const bob = await join('lobby')
    const carol = await join('garden')

    await ann.sendJsonTo({ message: 'hello' })
    expect(await ann.receiveJsonFrom()).toEqual({ message: 'hello' })
    expect(await bob.receiveJsonFrom()).toEqual({ message: 'hello' })
    expect(await carol.receiveNothing()).toBe(true)

    await bob.sendJsonTo({})
    await bob.sendJsonTo({ message: 42 })
    expect(await ann.receiveNothing()).toBe(true)
    await bob.sendTo({ text: '"not an object"' })
    expect(await bob.receiveOutput()).toMatchObject({ type: 'websocket.close', code: 1007 })

    await bob.disconnect()
    await ann.disconnect()
    // Every socket of the lobby left its group: a message to it reaches no one (each delivery counts in `sent`).
    const sent = layer.stats().sent
    expect(sent).toBe(2)
    await layer.groupSend('chat.lobby', { type: 'chat.message', message: 'anyone?' })
    expect(layer.stats().sent).toBe(sent)
    await carol.disconnect()
    await layer.close()
  })
})
