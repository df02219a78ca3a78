/**
 * A tour of the in-memory channel layer: a background channel with a worker loop, a group fan-out, a full
 * channel, and a message the layer refuses. Run it with `npx tsx examples/layer-demo/main.ts`.
 */
import {
  ChannelFullError,
  InMemoryChannelLayer,
  MessageNotSerializableError,
  type ChannelLayer,
  type Message,
} from 'switchyard-channels'

interface ThumbnailJob extends Message {
  readonly type: 'thumbnail.make'
  readonly imageId: number
}

async function worker(layer: ChannelLayer, signal: AbortSignal): Promise<number> {
  let done = 0
  for (;;) {
    try {
      const job = (await layer.receive('thumbnails', { signal })) as ThumbnailJob
      console.log(`  worker: made a thumbnail for image ${job.imageId}`)
      done++
    } catch (error) {
      if (signal.aborted) return done
      throw error
    }
  }
}

async function main(): Promise<void> {
  const layer = new InMemoryChannelLayer({ capacity: 100, channelCapacity: { 'thumb*': 3 } })

  console.log('1. Background channel: a producer queues jobs, a worker takes them in order')
  const stop = new AbortController()
  const working = worker(layer, stop.signal)
  for (const imageId of [101, 102, 103]) await layer.send('thumbnails', { type: 'thumbnail.make', imageId })

  console.log('2. Groups: one groupSend reaches every member channel')
  const alice = await layer.newChannel()
  const bob = await layer.newChannel()
  await layer.groupAdd('room.lobby', alice)
  await layer.groupAdd('room.lobby', bob)
  await layer.groupSend('room.lobby', { type: 'chat.message', text: 'hello, lobby' })
  for (const [who, channel] of [
    ['alice', alice],
    ['bob', bob],
  ] as const) {
    const message = await layer.receive(channel)
    console.log(`  ${who} got ${message.type}: ${typeof message.text === 'string' ? message.text : ''}`)
  }

  await new Promise((resolve) => setTimeout(resolve, 10))
  stop.abort()
  console.log(`  worker finished ${await working} jobs`)

  console.log('3. Capacity: "thumb*" channels hold 3 messages; the 4th send is refused, not lost silently')
  try {
    for (let imageId = 1; imageId <= 4; imageId++) await layer.send('thumbnails', { type: 'thumbnail.make', imageId })
  } catch (error) {
    if (!(error instanceof ChannelFullError)) throw error
    console.log(`  ${error.code}: ${error.message}`)
  }

  console.log('4. Validation: messages carry ids, not objects')
  try {
    await layer.send('thumbnails', { type: 'thumbnail.make', image: new Date() as never })
  } catch (error) {
    if (!(error instanceof MessageNotSerializableError)) throw error
    console.log(`  ${error.code}: ${error.message}`)
  }

  console.log('5. Counters:', layer.stats())
  await layer.close()
}

await main()
