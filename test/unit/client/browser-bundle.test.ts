import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'

import type * as Client from '../../../src/client/index.js'
import { clientModuleSource } from '../../../src/client/browser-bundle.js'
import { waitFor } from '../../support/wait.js'
import { TestServer } from './test-server.js'

describe('clientModuleSource', () => {
  // 4.5 KiB: 4 KiB until the recovery protocol (issue 16), whose positions kept and handed back cost ~260 bytes.
  it('is one self-contained, minified ES module under 4.5 KiB, built once', async () => {
    const source = await clientModuleSource()
    expect(source).not.toMatch(/\bimport\s*[\s{*"'(]/)
    expect(source).toMatch(/\bexport\s*\{[^}]*\bconnect\b/)
    expect(source.length).toBeLessThan(4608)
    expect(await clientModuleSource()).toBe(source)
  })

  it('runs: the bundled connect talks to a real server', async () => {
    const source = await clientModuleSource()
    const bundled = (await import(`data:text/javascript,${encodeURIComponent(source)}`)) as typeof Client
    const server = await TestServer.start()
    try {
      const conn = bundled.connect<{ type: 'echo.reply'; text: string }, { type: 'echo'; text: string }>(server.url(), {
        WebSocket,
      })
      const replies: string[] = []
      conn.on('echo.reply', (event) => replies.push(event.text))
      conn.send({ type: 'echo', text: 'hi' })
      const socket = await server.connection(1)
      expect(await server.receivedCount(1)).toEqual(['{"type":"echo","text":"hi"}'])
      socket.send(JSON.stringify({ type: 'echo.reply', text: 'hi back' }))
      await waitFor('the reply', () => replies.length === 1)
      expect(replies).toEqual(['hi back'])
      conn.close()
    } finally {
      await server.stop()
    }
  })
})
