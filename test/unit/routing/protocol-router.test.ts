import { describe, expect, it } from 'vitest'

import type { Scope } from '../../../src/application.js'
import { InvalidOptionError, RouteNotFoundError, UnknownProtocolError } from '../../../src/errors.js'
import { ProtocolTypeRouter } from '../../../src/routing/protocol-router.js'
import { channelScope, deepFreeze, httpScope, noReceive, noSend, recorder, wsScope } from './fakes.js'

describe('ProtocolTypeRouter', () => {
  // Channels' test_protocol_type_router.
  it('dispatches on scope.type and refuses unknown or missing types', async () => {
    const { app, last } = recorder()
    const router = ProtocolTypeRouter({ websocket: app('ws'), http: app('http') })
    const ws = deepFreeze(wsScope())
    await router(ws, noReceive, noSend)
    expect(last()).toEqual({ name: 'ws', scope: ws })
    await router(deepFreeze(httpScope()), noReceive, noSend)
    expect(last().name).toBe('http')

    const aprs = { ...httpScope(), type: 'aprs' } as unknown as Scope
    await expect(router(aprs, noReceive, noSend)).rejects.toThrow(UnknownProtocolError)
    await expect(router(aprs, noReceive, noSend)).rejects.toThrow(
      'No application configured for scope type "aprs"; ProtocolTypeRouter has "websocket", "http"',
    )
    const { type: _type, ...untyped } = httpScope()
    await expect(router(untyped as unknown as Scope, noReceive, noSend)).rejects.toThrow(
      /scope without a type; ProtocolTypeRouter has "websocket", "http"/,
    )
  })

  it('refuses a type it was not given, even one every object has', async () => {
    const router = ProtocolTypeRouter({ http: recorder().app('http') })
    await expect(router(channelScope('jobs'), noReceive, noSend)).rejects.toThrow(
      /"channel"; ProtocolTypeRouter has "http"/,
    )
    const sneaky = { type: 'constructor' } as unknown as Scope
    await expect(router(sneaky, noReceive, noSend)).rejects.toThrow(UnknownProtocolError)
  })

  it('refuses an http or websocket scope it has no application for with RouteNotFoundError: the server answers 404', async () => {
    const router = ProtocolTypeRouter({ websocket: recorder().app('ws') })
    await expect(router(httpScope(), noReceive, noSend)).rejects.toThrow(RouteNotFoundError)
    await expect(router(httpScope(), noReceive, noSend)).rejects.toThrow(
      'No application configured for scope type "http"; ProtocolTypeRouter has "websocket"',
    )
    const httpOnly = ProtocolTypeRouter({ http: recorder().app('http') })
    await expect(httpOnly(wsScope(), noReceive, noSend)).rejects.toThrow(RouteNotFoundError)
  })

  it('passes receive and send through', async () => {
    const seen: unknown[] = []
    const router = ProtocolTypeRouter({
      channel: async (_scope, receive, send) => {
        seen.push(receive, send)
      },
    })
    await router(channelScope('jobs'), noReceive, noSend)
    expect(seen).toEqual([noReceive, noSend])
  })

  it('validates the mapping when built', () => {
    expect(() => ProtocolTypeRouter(null as never)).toThrow(InvalidOptionError)
    expect(() => ProtocolTypeRouter({ lifespan: recorder().app('x') } as never)).toThrow(
      'Expected `mapping key` to be one of websocket, http, channel, got "lifespan"',
    )
    expect(() => ProtocolTypeRouter({ http: 'app' as never })).toThrow('Expected `http` to be an application function')
  })
})
