/**
 * Idle memory: one server process holds N idle WebSocket connections (each a member of the fan-out group, as a
 * chat or dashboard client would be). Heap and RSS are read after a full GC before and after; the difference
 * over N is the cost of one connection.
 */
import { setTimeout as delay } from 'node:timers/promises'

import type { FanoutConnect } from '../harness/load-protocol.js'
import type { MemoryResult } from '../harness/result.js'
import type { SystemUnderTest } from '../systems/systems.js'
import { runEnv, withServer, type BenchContext } from './context.js'

/** Lets the last handshakes' timers and garbage settle before the reading. */
const SETTLE_MS = 1_500

export async function runIdleMemory(
  context: BenchContext,
  system: SystemUnderTest,
  connections: number,
): Promise<MemoryResult> {
  const say = (line: string): void => {
    context.progress(`idle memory ${connections} conns on ${system.label}: ${line}`)
  }
  say('starting')
  return withServer(system, runEnv(context), async (server) => {
    await delay(SETTLE_MS)
    const before = await server.memory()
    await context.generators.connect(
      connections,
      (clients): FanoutConnect => ({
        kind: 'fanout.connect',
        wire: system.wire,
        url: system.fanoutUrl(server.url),
        clients,
        messages: 0,
      }),
      300_000,
    )
    await delay(SETTLE_MS)
    const after = await server.memory()
    const perConnection = (from: number, to: number): number => (to - from) / connections
    const result: MemoryResult = {
      system: system.name,
      label: system.label,
      connections,
      heapBytesPerConnection:
        before.heapUsedBytes === null || after.heapUsedBytes === null
          ? null
          : perConnection(before.heapUsedBytes, after.heapUsedBytes),
      rssBytesPerConnection: perConnection(before.rssBytes, after.rssBytes),
    }
    say(`${(result.rssBytesPerConnection / 1024).toFixed(1)} KiB RSS per connection`)
    return result
  })
}
