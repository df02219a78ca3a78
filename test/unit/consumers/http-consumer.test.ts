import { describe, expect, it } from 'vitest'

import { HttpConsumer, InMemoryChannelLayer, formatServerSentEvent, type HttpScope } from '../../../src/index.js'
import { ApplicationCommunicator, HttpCommunicator } from '../../../src/testing/index.js'

const decoder = new TextDecoder()

class JsonValue extends HttpConsumer {
  override async handle(body: Uint8Array): Promise<void> {
    const data = JSON.parse(decoder.decode(body)) as { value: number }
    await this.sendResponse(200, JSON.stringify({ value: data.value }), {
      headers: { 'Content-Type': 'application/json' },
    })
  }
}

function httpScope(path: string, layer?: InMemoryChannelLayer): HttpScope {
  return {
    type: 'http',
    method: 'GET',
    path,
    queryString: '',
    headers: [],
    httpVersion: '1.1',
    ...(layer === undefined ? {} : { channelLayer: layer }),
  }
}

describe('HttpConsumer', () => {
  it('answers a POST with a JSON body; dict headers become lower-cased pairs', async () => {
    const communicator = new HttpCommunicator(JsonValue.asApp(), 'POST', '/test/', {
      body: JSON.stringify({ value: 42, anything: false }),
    })
    const response = await communicator.getResponse()
    expect(response.status).toBe(200)
    expect(decoder.decode(response.body)).toBe('{"value":42}')
    expect(response.headers).toEqual([['content-type', 'application/json']])
  })

  it('surfaces an exception from handle() instead of hanging', async () => {
    class Broken extends HttpConsumer {
      override async handle(): Promise<void> {
        throw new Error('Error correctly raised')
      }
    }
    const communicator = new HttpCommunicator(Broken.asApp(), 'GET', '/')
    await expect(communicator.getResponse({ timeoutMs: 200 })).rejects.toThrow('Error correctly raised')
  })

  it('creates one instance per request', async () => {
    let instances = 0
    class Counted extends HttpConsumer {
      readonly id = ++instances
      override async handle(): Promise<void> {
        await this.sendResponse(200, String(this.id))
      }
    }
    const app = Counted.asApp()
    const first = await new HttpCommunicator(app, 'GET', '/').getResponse()
    const second = await new HttpCommunicator(app, 'GET', '/').getResponse()
    expect([decoder.decode(first.body), decoder.decode(second.body)]).toEqual(['1', '2'])
  })

  it('answers 413 for a body over maxBodyBytes', async () => {
    class Small extends JsonValue {
      static override maxBodyBytes = 10
    }
    const response = await new HttpCommunicator(Small.asApp(), 'POST', '/', { body: 'x'.repeat(11) }).getResponse()
    expect(response.status).toBe(413)
  })

  it('streams server-sent events from layer messages until the stream ends', async () => {
    class Progress extends HttpConsumer {
      override async handle(): Promise<void> {
        await this.channelLayer.groupAdd('job-7', this.channelName)
        await this.startEventStream()
      }
      async job_progress(event: { type: 'job.progress'; percent: number }): Promise<void> {
        await this.sendEvent({ event: 'progress', data: { percent: event.percent } })
        if (event.percent === 100) await this.endEventStream()
      }
    }
    const layer = new InMemoryChannelLayer()
    const communicator = new ApplicationCommunicator(Progress.asApp(), httpScope('/events/', layer))
    await communicator.sendInput({ type: 'http.request', body: new Uint8Array(0) })
    const start = await communicator.receiveOutput()
    expect(start).toMatchObject({ type: 'http.response.start', status: 200 })
    expect(start.type === 'http.response.start' && start.headers).toContainEqual([
      'content-type',
      'text/event-stream; charset=utf-8',
    ])
    // The consumer is still running after handle() returned: layer messages keep flowing.
    for (const percent of [50, 100]) {
      await layer.groupSend('job-7', { type: 'job.progress', percent })
      const chunk = await communicator.receiveOutput()
      expect(chunk.type === 'http.response.body' && decoder.decode(chunk.body)).toBe(
        `event: progress\ndata: {"percent":${percent}}\n\n`,
      )
    }
    expect(await communicator.receiveOutput()).toMatchObject({ type: 'http.response.body', moreBody: false })
    await communicator.wait()
    expect((layer as unknown as { groups: Map<string, unknown> }).groups.size).toBe(0)
  })

  it('long-polls: the response is finished by a later layer message', async () => {
    class LongPoll extends HttpConsumer {
      override async handle(): Promise<void> {
        await this.channelLayer.groupAdd('poll', this.channelName)
        await this.sendHeaders({ headers: { 'content-type': 'text/plain' } })
      }
      async poll_result(event: { type: 'poll.result'; text: string }): Promise<void> {
        await this.sendBody(event.text)
      }
    }
    const layer = new InMemoryChannelLayer()
    const communicator = new ApplicationCommunicator(LongPoll.asApp(), httpScope('/poll/', layer))
    await communicator.sendInput({ type: 'http.request', body: new Uint8Array(0) })
    expect(await communicator.receiveOutput()).toMatchObject({ type: 'http.response.start', status: 200 })
    expect(await communicator.receiveNothing({ timeoutMs: 50 })).toBe(true)
    await layer.groupSend('poll', { type: 'poll.result', text: 'ready' })
    const body = await communicator.receiveOutput()
    expect(body.type === 'http.response.body' && decoder.decode(body.body)).toBe('ready')
    await communicator.wait()
  })

  it('runs disconnect() when the client goes away mid-stream', async () => {
    let disconnected = false
    class Stream extends HttpConsumer {
      override async handle(): Promise<void> {
        await this.startEventStream()
      }
      override async disconnect(): Promise<void> {
        disconnected = true
      }
    }
    const communicator = new ApplicationCommunicator(Stream.asApp(), httpScope('/s/'))
    await communicator.sendInput({ type: 'http.request', body: new Uint8Array(0) })
    await communicator.receiveOutput()
    await communicator.sendInput({ type: 'http.disconnect' })
    await communicator.wait()
    expect(disconnected).toBe(true)
  })
})

describe('formatServerSentEvent', () => {
  it('splits multi-line data and keeps newlines out of other fields', () => {
    expect(formatServerSentEvent({ data: 'a\nb', event: 'x\ny', id: '7', retryMs: 1500 })).toBe(
      'event: x y\nid: 7\nretry: 1500\ndata: a\ndata: b\n\n',
    )
  })
})
