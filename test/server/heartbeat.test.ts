import { afterEach, describe, expect, it, vi } from 'vitest'

import { closed, connect, sleep, startServer, waitFor, websocketApp, wsUrl } from './helpers.js'

afterEach(() => {
  vi.restoreAllMocks()
})

describe('heartbeat', () => {
  it('terminates a client that does not answer pings after pingTimeoutMs, and keeps one that does', async () => {
    const server = await startServer(websocketApp(), { pingIntervalMs: 40, pingTimeoutMs: 150 })
    const silent = await connect(wsUrl(server), undefined, { autoPong: false })
    const healthy = await connect(wsUrl(server))
    let pings = 0
    silent.socket.on('ping', () => pings++)
    const started = Date.now()
    const { code } = await closed(silent.socket)
    const elapsed = Date.now() - started
    expect(code).toBe(1006) // terminated: no close frame
    expect(pings).toBeGreaterThanOrEqual(1)
    expect(elapsed).toBeGreaterThanOrEqual(140)
    expect(elapsed).toBeLessThan(600)
    await sleep(200) // well past pingTimeoutMs for the client that answers
    expect(healthy.socket.readyState).toBe(healthy.socket.OPEN)
    expect(server.app.switchyard.stats()).toMatchObject({ pingTimeouts: 1, connections: 1 })
  })

  it('uses one interval timer for all sockets, and none once they are gone', async () => {
    const setIntervalSpy = vi.spyOn(globalThis, 'setInterval')
    const server = await startServer(websocketApp(), { pingIntervalMs: 1000 })
    const heartbeat = server.app.switchyard.server.heartbeat
    expect(heartbeat.timers).toBe(0)
    const clients = await Promise.all(Array.from({ length: 20 }, () => connect(wsUrl(server))))
    expect(server.app.switchyard.stats().connections).toBe(20)
    expect(heartbeat.size).toBe(20)
    expect(heartbeat.timers).toBe(1)
    expect(setIntervalSpy).toHaveBeenCalledTimes(1)
    for (const { socket } of clients) socket.close()
    await waitFor(() => server.app.switchyard.stats().connections === 0)
    expect(heartbeat.timers).toBe(0)
    expect(setIntervalSpy).toHaveBeenCalledTimes(1)
  })
})
