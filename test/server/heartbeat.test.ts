import { afterEach, describe, expect, it, vi } from 'vitest'

import { closed, connect, sleep, startServer, waitFor, websocketApp, wsUrl } from './helpers.js'

afterEach(() => {
  vi.restoreAllMocks()
})

describe('heartbeat', () => {
  it('terminates a client that does not answer pings after pingTimeoutMs, and keeps one that does', async () => {
    const server = await startServer(websocketApp(), { pingIntervalMs: 40, pingTimeoutMs: 150 })
    // Before the silent client connects: the server counts its silence from the upgrade, so a clock started after the
    // second client's connect ran short by that connect's time (137 ms against 140 once, on a loaded machine).
    const started = Date.now()
    const silent = await connect(wsUrl(server), undefined, { autoPong: false })
    const healthy = await connect(wsUrl(server))
    let pings = 0
    silent.socket.on('ping', () => pings++)
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

  it('pings a client it has sent frames to with real ping frames (written by the outbound gate), and times out one that stops answering', async () => {
    const echo = websocketApp(async (event, send) => {
      if (event.type === 'websocket.receive') await send({ type: 'websocket.send', text: event.text ?? '' })
    })
    const server = await startServer(echo, { pingIntervalMs: 40, pingTimeoutMs: 150 })
    const answering = await connect(wsUrl(server))
    const silent = await connect(wsUrl(server), undefined, { autoPong: false })
    const pings = { answering: 0, silent: 0 }
    const payloads: string[] = []
    for (const [name, client] of [
      ['answering', answering],
      ['silent', silent],
    ] as const) {
      client.socket.on('ping', (data: Buffer) => {
        pings[name]++
        payloads.push(data.toString('hex'))
      })
      // A frame sent to each first: the server then has a gate for the socket, which writes its pings.
      const echoed = new Promise((resolve) => client.socket.once('message', resolve))
      client.socket.send('hi')
      await echoed
    }
    const { code } = await closed(silent.socket)
    expect(code).toBe(1006)
    await sleep(300)
    expect(answering.socket.readyState).toBe(answering.socket.OPEN)
    expect(pings.silent).toBeGreaterThanOrEqual(1)
    expect(pings.answering).toBeGreaterThanOrEqual(3)
    // Empty pings, as ws' own: the client parsed each as a valid control frame.
    expect(new Set(payloads)).toEqual(new Set(['']))
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
