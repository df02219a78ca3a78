/** docs/topics/routing.md: the example application's routes, middleware and channel router, driven as the page says. */
import { describe, expect, it } from 'vitest'

import { InMemoryChannelLayer, URLRouter, route, runWorker, type Application } from 'switchyard-channels'
import { HttpCommunicator, WebsocketCommunicator } from 'switchyard-channels/testing'

import { waitFor } from '../support/wait.js'
import { docProject } from './doc-blocks.js'

describe('docs/topics/routing.md', () => {
  it('routing.ts: converters, nesting, RegExp routes, middleware, 404s and the channel router', async () => {
    const project = await docProject('docs/topics/routing.md', ['routing.ts'])
    const { application } = await project.import<{ application: Application }>('routing.ts')

    const article = await new HttpCommunicator(application, 'GET', '/articles/2024/rates-unchanged/').getResponse()
    expect(article.status).toBe(200)
    expect(article.text()).toBe('{"args":[],"kwargs":{"year":2024,"slug":"rates-unchanged"}}')
    expect((await new HttpCommunicator(application, 'GET', '/').getResponse()).json()).toEqual({ args: [], kwargs: {} })
    // The server answers this with 404; a communicator surfaces the application's error itself.
    await expect(new HttpCommunicator(application, 'GET', '/articles/soon/x/').getResponse()).rejects.toMatchObject({
      code: 'SWY_ROUTE_NOT_FOUND',
    })

    const socketScope = async (path: string): Promise<unknown> => {
      const socket = new WebsocketCommunicator(application, path, { headers: { host: 'acme.example.com' } })
      expect(await socket.connect()).toMatchObject({ connected: true })
      const sent = await socket.receiveJsonFrom()
      await socket.disconnect()
      return sent
    }
    expect(await socketScope('/ws/chat/lobby/')).toEqual({
      urlRoute: { args: [], kwargs: { room: 'lobby' } },
      tenant: 'acme',
    })
    expect(await socketScope('/ws/admin/stats/queues/')).toEqual({
      urlRoute: { args: [], kwargs: { panel: 'queues' } },
      tenant: 'acme',
    })
    expect(await socketScope('/ws/legacy/42/')).toEqual({
      urlRoute: { args: [], kwargs: { id: '42' } },
      tenant: 'acme',
    })
    const nowhere = new WebsocketCommunicator(application, '/ws/chatlobby/')
    await expect(nowhere.connect()).rejects.toMatchObject({ code: 'SWY_ROUTE_NOT_FOUND' })

    // Bad routes fail when the router is built, naming the route or the entry.
    expect(() => URLRouter([route('files/*', application)])).toThrow(/`route "files\/\*"`/)
    const entries = [route('a/', application), route('b/', application), ['c/', 'not an app']] as never
    expect(() => URLRouter(entries)).toThrow(/`routes\[2\]\.app`/)

    const layer = new InMemoryChannelLayer()
    const made: unknown[] = []
    const logger = { info: (fields: unknown) => made.push(fields) }
    const worker = runWorker({ application, layer, channels: ['thumbnails'], logger: fakeLogger(logger) })
    await layer.send('thumbnails', { type: 'thumbnail.make', imageId: 42 })
    await waitFor('the thumbnail', () => made.some((fields) => (fields as { imageId?: number }).imageId === 42))
    await worker.stop()
    await layer.close()
  })
})

/** A pino-shaped logger whose `info` calls go to `sink`; everything else is dropped. */
function fakeLogger(sink: { info: (fields: unknown) => void }): never {
  const logger: Record<string, unknown> = {
    level: 'info',
    info: (fields: unknown) => {
      sink.info(fields)
    },
    warn: () => undefined,
    error: () => undefined,
    debug: () => undefined,
    trace: () => undefined,
    fatal: () => undefined,
    child: () => logger,
    isLevelEnabled: () => true,
  }
  return logger as never
}
