/**
 * Counts the commands clients send to a redis-server over a window, by name, a script call counting once.
 *
 * INFO commandstats alone would overcount: Redis 7 counts the commands a script runs as calls too (see
 * test/support/group-send-cost.ts), so one EVALSHA that runs three commands shows as four. MONITOR marks those
 * with the source `lua`, so the window is bounded by two INFO calls of our own, and what MONITOR showed from
 * `lua` between them is taken out of the commandstats difference. Commandstats stays the count: MONITOR leaves
 * out admin commands, commandstats does not. MONITOR also names the script behind each EVALSHA, so script calls
 * are listed by script.
 */
import { createHash } from 'node:crypto'

import { Redis } from 'ioredis'

import { info } from '../../test/support/redis-info.js'

export interface CommandCalls {
  /** As commandstats names it (`zadd`, `client|setname`); a script call as `evalsha <script name or sha>`. */
  readonly command: string
  readonly calls: number
}

export interface CommandCount {
  /** Between our two INFO calls, by Redis' clock. */
  readonly windowMs: number
  /** Every command clients sent in the window (ours excepted), a script call counting once. */
  readonly total: number
  /** `total` by command, most called first. */
  readonly byCommand: readonly CommandCalls[]
  /** Commands run inside the scripts called in the window: not in `total`. */
  readonly scriptCommands: number
}

/** Long enough for MONITOR's line of our own INFO to arrive after INFO's reply did. */
const MARKER_TIMEOUT_MS = 5_000

/** The commands that call a script: counted by script. */
const SCRIPT_CALLS: ReadonlySet<string> = new Set(['eval', 'evalsha', 'eval_ro', 'evalsha_ro'])

/**
 * Counts the commands that reach the redis-server at `redisUrl` while `during` runs (e.g. a delay: the window).
 * `scriptNames` names scripts by their SHA1 (others are shown by SHA1).
 */
export async function countRedisCommands(
  redisUrl: string,
  during: () => Promise<void>,
  scriptNames: ReadonlyMap<string, string> = new Map(),
): Promise<CommandCount> {
  const admin = new Redis(redisUrl)
  let monitor: Redis | undefined
  try {
    const addr = /(?:^|\s)addr=(\S+)/.exec(String(await admin.call('CLIENT', 'INFO')))?.[1]
    if (addr === undefined) throw new Error('CLIENT INFO gave no addr= field')
    monitor = await admin.monitor()
    const watch = new ScriptCommandWatch(addr, scriptNames)
    monitor.on('monitor', (time: string, args: string[], source: string) => {
      watch.see(time, args, source)
    })
    const before = await commandStats(admin)
    await during()
    const after = await commandStats(admin)
    const { windowMs: measuredMs, inScripts, scriptCalls } = await watch.closed()

    const byCommand: CommandCalls[] = []
    let scriptCommands = 0
    for (const [command, calls] of after) {
      const ranInScripts = inScripts.get(command) ?? 0
      // Our first INFO is in the difference (a command counts once it ran); the second is not yet.
      const ours = command === 'info' ? 1 : 0
      const sent = calls - (before.get(command) ?? 0) - ranInScripts - ours
      if (sent < 0) throw new Error(`commandstats and MONITOR disagree about ${command}: ${sent} calls`)
      scriptCommands += ranInScripts
      if (SCRIPT_CALLS.has(command)) byCommand.push(...byScript(command, sent, scriptCalls))
      else if (sent > 0) byCommand.push({ command, calls: sent })
    }
    const seenInScripts = [...inScripts.values()].reduce((sum, n) => sum + n, 0) / 2
    if (scriptCommands !== seenInScripts) {
      throw new Error(`MONITOR showed ${seenInScripts} commands run by scripts, commandstats ${scriptCommands}`)
    }
    byCommand.sort((a, b) => b.calls - a.calls || a.command.localeCompare(b.command))
    const total = byCommand.reduce((sum, entry) => sum + entry.calls, 0)
    return { windowMs: measuredMs, total, byCommand, scriptCommands }
  } finally {
    monitor?.disconnect()
    admin.disconnect()
  }
}

/** The `sent` calls of `command` (EVALSHA, EVAL...) by script, as MONITOR saw them. */
function byScript(command: string, sent: number, scriptCalls: ReadonlyMap<string, number>): CommandCalls[] {
  const entries = [...scriptCalls]
    .filter(([name]) => name.startsWith(`${command} `))
    .map(([name, calls]) => ({ command: name, calls }))
  const seen = entries.reduce((sum, entry) => sum + entry.calls, 0)
  if (seen !== sent) throw new Error(`MONITOR showed ${seen} ${command} calls, commandstats ${sent}`)
  return entries
}

/** `cmdstat_<name>.calls` of INFO commandstats, by name. */
async function commandStats(client: Redis): Promise<Map<string, number>> {
  const fields = await info(client, 'commandstats')
  const calls = new Map<string, number>()
  for (const [field, value] of fields) {
    const name = /^cmdstat_(.+)\.calls$/.exec(field)?.[1]
    if (name !== undefined) calls.set(name, value)
  }
  return calls
}

/**
 * Follows MONITOR between the two INFO calls sent from `ownAddr`: their times bound the window. Meanwhile it
 * counts script calls by script (`evalsha task-settle`), and the commands scripts ran by name, each under both
 * `cmd` and `cmd|sub` (commandstats uses one of them).
 */
class ScriptCommandWatch {
  private startUs: number | undefined
  private endUs: number | undefined
  private readonly inScripts = new Map<string, number>()
  private readonly scriptCalls = new Map<string, number>()
  private onEnd: (() => void) | undefined

  constructor(
    private readonly ownAddr: string,
    private readonly scriptNames: ReadonlyMap<string, string>,
  ) {}

  see(time: string, args: readonly string[], source: string): void {
    if (this.endUs !== undefined) return
    const command = (args[0] ?? '').toLowerCase()
    if (source === this.ownAddr && command === 'info') {
      if (this.startUs === undefined) {
        this.startUs = microseconds(time)
      } else {
        this.endUs = microseconds(time)
        this.onEnd?.()
      }
    } else if (this.startUs === undefined) {
      return
    } else if (source === 'lua') {
      increment(this.inScripts, command)
      increment(this.inScripts, `${command}|${(args[1] ?? '').toLowerCase()}`)
    } else if (SCRIPT_CALLS.has(command)) {
      // EVALSHA names its script by SHA1; EVAL carries the script itself.
      const body = args[1] ?? ''
      const sha = command.startsWith('evalsha') ? body.toLowerCase() : createHash('sha1').update(body).digest('hex')
      increment(this.scriptCalls, `${command} ${this.scriptNames.get(sha) ?? sha}`)
    }
  }

  /** Once MONITOR has shown the second INFO: the window's length and the commands scripts ran in it. */
  async closed(): Promise<{
    windowMs: number
    inScripts: ReadonlyMap<string, number>
    scriptCalls: ReadonlyMap<string, number>
  }> {
    if (this.endUs === undefined) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new Error(`MONITOR did not show our INFO calls within ${MARKER_TIMEOUT_MS} ms`))
        }, MARKER_TIMEOUT_MS)
        this.onEnd = () => {
          clearTimeout(timer)
          resolve()
        }
      })
    }
    const windowMs = ((this.endUs ?? 0) - (this.startUs ?? 0)) / 1_000
    return { windowMs, inScripts: this.inScripts, scriptCalls: this.scriptCalls }
  }
}

function increment(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1)
}

/** A MONITOR time (`1796456449.505090`, seconds and microseconds) in µs, without losing the microseconds. */
function microseconds(time: string): number {
  const [seconds = '', micros = '0'] = time.split('.')
  return Number(seconds) * 1_000_000 + Number(micros.padEnd(6, '0'))
}
