import { pino } from 'pino'
import { afterEach, describe, expect, it, vi } from 'vitest'

import { BackgroundConsumer } from '../../../consumers/background-consumer.js'
import { StopConsumer } from '../../../src/control.js'
import type { ChannelScope } from '../../../src/application.js'
import { InvalidOptionError, NoChannelLayerError, UnknownProtocolError } from '../../../src/errors.js'
import type { ChannelLayer, Message, ReceiveOptions } from '../../../src/layers/channel-layer.js'
import { InMemoryChannelLayer } from '../../../src/layers/memory/memory-layer.js'
import { ApplicationCommunicator, receiveFromLayer, websocketScope } from '../../../src/testing/index.js'

const CHANNEL = 'email.send'

interface Gate {
  readonly opened: Promise<void>
  open(): void
}

function gate(): Gate {
  let open = (): void => undefined
  const opened = new Promise<void>((resolve) => {
    open = resolve
  })
  return { opened, open }
}

async function eventually(check: () => boolean, timeoutMs = 1000): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!check()) {
    if (performance.now() > deadline) throw new Error('condition not reached in time')
    await new Promise((resolve) => setTimeout(resolve, 1))
  }
}

function channelScope(layer: ChannelLayer | undefined, logLines?: Record<string, unknown>[]): ChannelScope {
  return {
    type: 'channel',
    channel: CHANNEL,
    ...(layer === undefined ? {} : { channelLayer: layer }),
    ...(logLines === undefined
      ? {}
      : {
          logger: pino(
            { level: 'debug' },
            {
              write: (line: string) => {
                logLines.push(JSON.parse(line) as Record<string, unknown>)
              },
            },
          ),
        }),
  }
}

/** Records every handled message; `gates[text]` holds a handler until opened. */
class Mailer extends BackgroundConsumer {
  static instances: Mailer[] = []
  static handled: string[] = []
  static running = 0
  static maxRunning = 0
  static gates = new Map<string, Gate>()

  constructor() {
    super()
    Mailer.instances.push(this)
  }

  async email_send(message: Message): Promise<void> {
    const text = message.text as string
    Mailer.running++
    Mailer.maxRunning = Math.max(Mailer.maxRunning, Mailer.running)
    try {
      await Mailer.gates.get(text)?.opened
      if (text === 'boom') throw new Error('smtp refused')
      if (text === 'stop') throw new StopConsumer()
      Mailer.handled.push(`send:${text}`)
    } finally {
      Mailer.running--
    }
  }

  async email_bounce(message: Message): Promise<void> {
    Mailer.handled.push(`bounce:${message.text as string}`)
  }
}

class ConcurrentMailer extends Mailer {
  static override concurrency = 2
}

function reset(): void {
  Mailer.instances = []
  Mailer.handled = []
  Mailer.running = 0
  Mailer.maxRunning = 0
  Mailer.gates = new Map()
}

let communicator: ApplicationCommunicator | undefined

afterEach(async () => {
  vi.useRealTimers()
  await communicator?.stop({ exceptions: false })
  communicator = undefined
  reset()
})

function start(app = Mailer.asApp(), layer = new InMemoryChannelLayer(), logLines?: Record<string, unknown>[]) {
  communicator = new ApplicationCommunicator(app, channelScope(layer, logLines))
  // Nothing is sent to the application until it is started; receiveNothing starts it without sending input.
  return { communicator, layer, ready: communicator.receiveNothing({ timeoutMs: 10 }) }
}

async function shutdown(running: ApplicationCommunicator): Promise<void> {
  await running.sendInput({ type: 'switchyard.shutdown' })
  await running.wait()
}

describe('BackgroundConsumer', () => {
  it('takes messages off scope.channel and dispatches them by type, in order', async () => {
    const { communicator, layer, ready } = start()
    await ready
    await layer.send(CHANNEL, { type: 'email.send', text: 'a' })
    await layer.send(CHANNEL, { type: 'email.bounce', text: 'b' })
    await layer.send(CHANNEL, { type: 'email.send', text: 'c' })
    await eventually(() => Mailer.handled.length === 3)
    expect(Mailer.handled).toEqual(['send:a', 'bounce:b', 'send:c'])
    await shutdown(communicator)
    expect(Mailer.instances[0]?.stats()).toEqual({ handled: 3, failed: 0, unhandled: 0, dropped: 0 })
  })

  it('runs one handler at a time by default', async () => {
    const { communicator, layer, ready } = start()
    await ready
    const first = gate()
    Mailer.gates.set('1', first)
    await layer.send(CHANNEL, { type: 'email.send', text: '1' })
    await layer.send(CHANNEL, { type: 'email.send', text: '2' })
    await eventually(() => Mailer.running === 1)
    expect(await communicator.receiveNothing({ timeoutMs: 20 })).toBe(true)
    expect(Mailer.handled).toEqual([])
    first.open()
    await eventually(() => Mailer.handled.length === 2)
    expect(Mailer.maxRunning).toBe(1)
    await shutdown(communicator)
  })

  it('runs up to static concurrency handlers at once, and no more', async () => {
    const { communicator, layer, ready } = start(ConcurrentMailer.asApp())
    await ready
    const gates = ['1', '2', '3'].map((text) => {
      const held = gate()
      Mailer.gates.set(text, held)
      return held
    })
    for (const text of ['1', '2', '3']) await layer.send(CHANNEL, { type: 'email.send', text })
    await eventually(() => Mailer.running === 2)
    expect(await communicator.receiveNothing({ timeoutMs: 20 })).toBe(true)
    expect(Mailer.running).toBe(2)
    gates[0]?.open()
    await eventually(() => Mailer.handled.length === 1 && Mailer.running === 2)
    gates[1]?.open()
    gates[2]?.open()
    await eventually(() => Mailer.handled.length === 3)
    expect(Mailer.maxRunning).toBe(2)
    await shutdown(communicator)
  })

  it("lets the worker's concurrency option override static concurrency", async () => {
    const layer = new InMemoryChannelLayer()
    communicator = new ApplicationCommunicator(Mailer.asApp(), { ...channelScope(layer), concurrency: 2 })
    const held = gate()
    Mailer.gates.set('1', held)
    Mailer.gates.set('2', held)
    for (const text of ['1', '2']) await layer.send(CHANNEL, { type: 'email.send', text })
    expect(await communicator.receiveNothing({ timeoutMs: 10 })).toBe(true)
    await eventually(() => Mailer.running === 2)
    held.open()
    await eventually(() => Mailer.handled.length === 2)
    await shutdown(communicator)
  })

  it('refuses a concurrency option that is not a positive integer', async () => {
    communicator = new ApplicationCommunicator(Mailer.asApp(), {
      ...channelScope(new InMemoryChannelLayer()),
      concurrency: 0,
    })
    const error = await communicator.wait().catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(InvalidOptionError)
    expect((error as Error).message).toBe('Expected `concurrency` to be a positive integer, got 0')
  })

  it.each([
    ['one at a time', Mailer],
    ['concurrently', ConcurrentMailer],
  ])('on shutdown (%s) finishes the handlers in progress, then takes no more messages', async (_, Consumer) => {
    const { communicator, layer, ready } = start(Consumer.asApp())
    await ready
    const slow = gate()
    Mailer.gates.set('slow', slow)
    await layer.send(CHANNEL, { type: 'email.send', text: 'slow' })
    await eventually(() => Mailer.running === 1)

    await communicator.sendInput({ type: 'switchyard.shutdown' })
    let finished = false
    const done = communicator.wait({ timeoutMs: 2000 }).then(() => {
      finished = true
    })
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect(finished).toBe(false)

    slow.open()
    await done
    expect(Mailer.handled).toEqual(['send:slow'])
    // The channel is left alone once the consumer stopped: the next message waits for the next worker.
    await layer.send(CHANNEL, { type: 'email.send', text: 'later' })
    expect(await receiveFromLayer(layer, CHANNEL)).toEqual({ type: 'email.send', text: 'later' })
  })

  it('keeps running past a message with no handler and one whose type cannot name a handler', async () => {
    const lines: Record<string, unknown>[] = []
    const { communicator, layer, ready } = start(Mailer.asApp(), new InMemoryChannelLayer(), lines)
    await ready
    await layer.send(CHANNEL, { type: 'email.unknown', secret: 'hunter2' })
    await layer.send(CHANNEL, { type: 'nodot' })
    await layer.send(CHANNEL, { type: 'email.send', text: 'after' })
    await eventually(() => Mailer.handled.length === 1)
    await shutdown(communicator)

    expect(Mailer.instances[0]?.stats()).toEqual({ handled: 1, failed: 0, unhandled: 2, dropped: 0 })
    const warning = lines.find((line) => line.msg === 'message with no handler dropped')
    expect(warning).toMatchObject({ code: 'SWY_UNKNOWN_MESSAGE_TYPE', type: 'email.unknown', channel: CHANNEL })
    expect(JSON.stringify(lines)).not.toContain('hunter2')
  })

  it('logs unknown types at most once per 10 s, with the count since the last line', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(1_000_000)
    const lines: Record<string, unknown>[] = []
    const { communicator, layer, ready } = start(Mailer.asApp(), new InMemoryChannelLayer(), lines)
    await ready
    const unhandled = () => lines.filter((line) => line.msg === 'message with no handler dropped')
    const instance = () => Mailer.instances[0]?.stats().unhandled ?? 0

    await layer.send(CHANNEL, { type: 'a.b' })
    await layer.send(CHANNEL, { type: 'c.d' })
    await layer.send(CHANNEL, { type: 'e.f' })
    await eventually(() => instance() === 3)
    expect(unhandled().map((line) => line.unhandled)).toEqual([1])

    vi.setSystemTime(1_000_000 + 9_999)
    await layer.send(CHANNEL, { type: 'g.h' })
    await eventually(() => instance() === 4)
    expect(unhandled()).toHaveLength(1)

    vi.setSystemTime(1_000_000 + 10_000)
    await layer.send(CHANNEL, { type: 'i.j' })
    await eventually(() => instance() === 5)
    expect(unhandled().map((line) => [line.type, line.unhandled])).toEqual([
      ['a.b', 1],
      ['i.j', 4],
    ])
    await shutdown(communicator)
  })

  it('logs a handler that throws, without the payload, and keeps going', async () => {
    const lines: Record<string, unknown>[] = []
    const { communicator, layer, ready } = start(Mailer.asApp(), new InMemoryChannelLayer(), lines)
    await ready
    await layer.send(CHANNEL, { type: 'email.send', text: 'boom', password: 'hunter2' })
    await layer.send(CHANNEL, { type: 'email.send', text: 'next' })
    await eventually(() => Mailer.handled.length === 1)
    await shutdown(communicator)

    expect(Mailer.handled).toEqual(['send:next'])
    expect(Mailer.instances[0]?.stats()).toMatchObject({ handled: 1, failed: 1 })
    const failure = lines.find((line) => line.msg === 'background handler failed; message not retried')
    expect(failure).toMatchObject({ type: 'email.send', err: { message: 'smtp refused' } })
    expect(JSON.stringify(lines)).not.toContain('hunter2')
    expect(lines.find((line) => line.msg === 'background consumer stopped')).toMatchObject({ handled: 1, failed: 1 })
  })

  it('stops cleanly when a handler throws StopConsumer', async () => {
    const { communicator, layer, ready } = start()
    await ready
    await layer.send(CHANNEL, { type: 'email.send', text: 'stop' })
    await communicator.wait()
    await layer.send(CHANNEL, { type: 'email.send', text: 'unread' })
    expect(await receiveFromLayer(layer, CHANNEL)).toMatchObject({ text: 'unread' })
  })

  it('is not stopped by a layer message of type switchyard.shutdown', async () => {
    const { communicator, layer, ready } = start()
    await ready
    await layer.send(CHANNEL, { type: 'switchyard.shutdown' })
    await layer.send(CHANNEL, { type: 'email.send', text: 'still here' })
    await eventually(() => Mailer.handled.length === 1)
    expect(Mailer.instances[0]?.stats()).toMatchObject({ handled: 1, unhandled: 1 })
    await shutdown(communicator)
  })

  it('counts a message the layer handed over as the consumer stopped', async () => {
    // A layer that ignores the abort signal hands over a message after the stop, as a slow backend could.
    const inner = new InMemoryChannelLayer()
    const late = new Proxy(inner, {
      get(target, property) {
        if (property === 'receive') return (channel: string, _options?: ReceiveOptions) => target.receive(channel)
        const value: unknown = Reflect.get(target, property, target)
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value
      },
    })
    const { communicator, ready } = start(Mailer.asApp(), late)
    await ready
    await communicator.sendInput({ type: 'switchyard.shutdown' })
    // The stop takes a few microtasks; the receive it could not cancel is still pending after it.
    await new Promise((resolve) => setTimeout(resolve, 10))
    await inner.send(CHANNEL, { type: 'email.send', text: 'too late' })
    await communicator.wait()
    expect(Mailer.handled).toEqual([])
    expect(Mailer.instances[0]?.stats()).toEqual({ handled: 0, failed: 0, unhandled: 0, dropped: 1 })
  })

  it('refuses a scope that is not a worker channel', async () => {
    communicator = new ApplicationCommunicator(Mailer.asApp(), websocketScope('/'))
    const error = await communicator.wait().catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(UnknownProtocolError)
    expect((error as Error).message).toMatch(/Mailer serves worker channels \("channel" scopes\), got a "websocket"/)
  })

  it('refuses to start without a channel layer', async () => {
    communicator = new ApplicationCommunicator(Mailer.asApp(), channelScope(undefined))
    const error = await communicator.wait().catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(NoChannelLayerError)
    expect((error as Error).message).toContain('reads channel "email.send"')
  })
})
