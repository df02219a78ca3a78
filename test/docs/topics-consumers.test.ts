/** docs/topics/consumers.md: the news consumer over communicators, the progress stream over a real server. */
import { afterEach, describe, expect, it } from 'vitest'

import {
  InMemoryChannelLayer,
  ProtocolTypeRouter,
  URLRouter,
  route,
  serve,
  type AsyncConsumer,
  type ConsumerConstructor,
  type RunningServer,
} from 'switchyard-channels'
import { WebsocketCommunicator } from 'switchyard-channels/testing'

import { waitFor } from '../support/wait.js'
import { docProject } from './doc-blocks.js'

type ConsumerClass = ConsumerConstructor<AsyncConsumer> & { asApp(): ReturnType<typeof AsyncConsumer.asApp> }

describe('docs/topics/consumers.md', () => {
  let layer = new InMemoryChannelLayer()
  let server: RunningServer | undefined

  afterEach(async () => {
    await server?.close()
    server = undefined
    await layer.close()
    layer = new InMemoryChannelLayer()
  })

  it('news.ts: pushes the news group and a desk group, refuses a bad desk, leaves every group on disconnect', async () => {
    const project = await docProject('docs/topics/consumers.md', ['news.ts'])
    const { NewsConsumer } = await project.import<{ NewsConsumer: ConsumerClass }>('news.ts')
    const application = URLRouter([
      route('/ws/news/', NewsConsumer.asApp()),
      route('/ws/news/:desk/', NewsConsumer.asApp()),
    ])

    const sports = new WebsocketCommunicator(application, '/ws/news/sports/', { layer })
    expect(await sports.connect()).toMatchObject({ connected: true })
    const everyone = new WebsocketCommunicator(application, '/ws/news/', { layer })
    expect(await everyone.connect()).toMatchObject({ connected: true })

    await layer.groupSend('news', { type: 'news.published', id: 7, title: 'Rates unchanged' })
    await layer.groupSend('news.sports', { type: 'news.retracted', id: 3 })
    expect(await sports.receiveJsonFrom()).toEqual({ type: 'news.published', id: 7, title: 'Rates unchanged' })
    expect(await sports.receiveJsonFrom()).toEqual({ type: 'news.retracted', id: 3 })
    expect(await everyone.receiveJsonFrom()).toEqual({ type: 'news.published', id: 7, title: 'Rates unchanged' })
    expect(await everyone.receiveNothing()).toBe(true)

    const refused = new WebsocketCommunicator(application, '/ws/news/Sports1/', { layer })
    expect(await refused.connect()).toMatchObject({ connected: false })
    await refused.disconnect() // what the server delivers after a refused handshake

    expect((await layer.inspect()).groups.map((group) => [group.name, group.members])).toEqual([
      ['news', 2],
      ['news.sports', 1],
    ])
    await sports.disconnect()
    await everyone.disconnect()
    expect((await layer.inspect()).groups).toEqual([])
  })

  it('ticker.ts: forwards price.changed to every member as it is, with no handler', async () => {
    const project = await docProject('docs/topics/consumers.md', ['ticker.ts'])
    const { TickerConsumer } = await project.import<{ TickerConsumer: ConsumerClass }>('ticker.ts')
    const members = [0, 1].map(() => new WebsocketCommunicator(TickerConsumer.asApp(), '/ws/prices/', { layer }))
    for (const member of members) expect(await member.connect()).toMatchObject({ connected: true })
    await layer.groupSend('prices', { type: 'price.changed', symbol: 'ACME', cents: 12_345 })
    for (const member of members) {
      expect(await member.receiveJsonFrom()).toEqual({ type: 'price.changed', symbol: 'ACME', cents: 12_345 })
      await member.disconnect()
    }
  })

  it('progress-stream.ts: streams job.progress events as server-sent events and ends at 100 %', async () => {
    const project = await docProject('docs/topics/consumers.md', ['progress-stream.ts'])
    const { ProgressStream } = await project.import<{ ProgressStream: ConsumerClass }>('progress-stream.ts')
    const application = ProtocolTypeRouter({
      http: URLRouter([route('/jobs/<int:id>/events/', ProgressStream.asApp())]),
    })
    server = await serve({ application, layer, port: 0 })

    const responding = fetch(`${server.url}/jobs/7/events/`)
    await waitFor('the stream to join job.7', async () => (await layer.inspect()).groups.length === 1)
    await layer.groupSend('job.7', { type: 'job.progress', percent: 40 })
    await layer.groupSend('job.7', { type: 'job.progress', percent: 100 })
    const response = await responding
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    expect(await response.text()).toBe(
      'event: progress\ndata: {"percent":40}\n\nevent: progress\ndata: {"percent":100}\n\n',
    )
  })
})
