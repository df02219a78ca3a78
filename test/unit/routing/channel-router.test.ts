import { describe, expect, it } from 'vitest'

import {
  InvalidChannelNameError,
  InvalidOptionError,
  RouteNotFoundError,
  UnknownProtocolError,
} from '../../../src/errors.js'
import { ChannelNameRouter } from '../../../src/routing/channel-router.js'
import { channelScope, deepFreeze, httpScope, noReceive, noSend, recorder } from './fakes.js'

describe('ChannelNameRouter', () => {
  // Channels' test_channel_name_router.
  it('dispatches on scope.channel, refuses unknown channels and other scope types', async () => {
    const { app, last } = recorder()
    const router = ChannelNameRouter({ test: app('1'), other_test: app('2') })
    const scope = deepFreeze(channelScope('test'))
    await router(scope, noReceive, noSend)
    expect(last()).toEqual({ name: '1', scope })
    await router(deepFreeze(channelScope('other_test')), noReceive, noSend)
    expect(last().name).toBe('2')

    await expect(router(channelScope('chat'), noReceive, noSend)).rejects.toThrow(RouteNotFoundError)
    await expect(router(channelScope('chat'), noReceive, noSend)).rejects.toThrow(
      'No application configured for channel "chat"; ChannelNameRouter has "test", "other_test"',
    )
    await expect(router(httpScope(), noReceive, noSend)).rejects.toThrow(UnknownProtocolError)
    await expect(router(httpScope(), noReceive, noSend)).rejects.toThrow(/ProtocolTypeRouter\(\{ channel/)
  })

  it('finds nothing on Object.prototype', async () => {
    const router = ChannelNameRouter({ test: recorder().app('1') })
    await expect(router(channelScope('constructor'), noReceive, noSend)).rejects.toThrow(RouteNotFoundError)
  })

  it('validates channel names and applications when built', () => {
    const app = recorder().app('1')
    expect(() => ChannelNameRouter({ 'bad name': app })).toThrow(InvalidChannelNameError)
    expect(() => ChannelNameRouter({ ['x'.repeat(100)]: app })).toThrow(InvalidChannelNameError)
    expect(() => ChannelNameRouter({ 'jobs.thumbnails': 'app' as never })).toThrow(InvalidOptionError)
    expect(() => ChannelNameRouter([] as never)).toThrow(InvalidOptionError)
  })
})
