import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { Redis } from 'ioredis'

import { ReplicatedConnection, type ScriptTarget } from './replica-wait.js'

let prelude: string | undefined

function readScript(name: string): string {
  return readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), 'utf8')
}

export type ScriptArgument = string | number | Buffer

/**
 * A Lua script from `lua/`, run with EVALSHA and, when the server does not know it yet (a fresh or restarted
 * Redis), EVAL: ioredis' defineCommand does the same but cannot be typed without declaration merging. The file is
 * read on first use: importing the package must not touch the disk for a layer that may never be created.
 */
export class LuaScript {
  #lua: string | undefined
  #sha: string | undefined

  constructor(readonly name: string) {}

  get lua(): string {
    this.#lua ??= (prelude ??= readScript('prelude')) + readScript(this.name)
    return this.#lua
  }

  get sha(): string {
    this.#sha ??= createHash('sha1').update(this.lua).digest('hex')
    return this.#sha
  }

  async run(client: ScriptTarget, keys: readonly string[], args: readonly ScriptArgument[]): Promise<unknown> {
    if (client instanceof ReplicatedConnection) {
      return this.loadedOrSent((command, script) => client.run(command, script, keys, args, false))
    }
    return this.loadedOrSent((command, script) =>
      command === 'EVALSHA'
        ? client.evalsha(script, keys.length, ...keys, ...args)
        : client.eval(script, keys.length, ...keys, ...args),
    )
  }

  /** Like `run`, but bulk replies come back as Buffers (binary payloads must not go through UTF-8). */
  async runBuffer(client: ScriptTarget, keys: readonly string[], args: readonly ScriptArgument[]): Promise<unknown> {
    if (client instanceof ReplicatedConnection) {
      return this.loadedOrSent((command, script) => client.run(command, script, keys, args, true))
    }
    return this.loadedOrSent((command, script) => client.callBuffer(command, script, keys.length, ...keys, ...args))
  }

  /** `send` by SHA, or, when the server does not know the script (NOSCRIPT), with its source. */
  private async loadedOrSent(
    send: (command: 'EVALSHA' | 'EVAL', script: string) => Promise<unknown>,
  ): Promise<unknown> {
    try {
      return await send('EVALSHA', this.sha)
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
      return await send('EVAL', this.lua)
    }
  }
}

/** Every script, by name. Call sites go through their typed wrappers (scripts/*.ts), which mirror each header. */
export const SCRIPTS = {
  send: new LuaScript('send'),
  groupAdd: new LuaScript('group-add'),
  groupSend: new LuaScript('group-send'),
  groupsWithMembers: new LuaScript('groups-with-members'),
  deliver: new LuaScript('deliver'),
  groupDiscard: new LuaScript('group-discard'),
  leaveGroups: new LuaScript('leave-groups'),
  sweep: new LuaScript('sweep'),
  sweepProcess: new LuaScript('sweep-process'),
  taskSettle: new LuaScript('task-settle'),
  taskStart: new LuaScript('task-start'),
  taskDeclare: new LuaScript('task-declare'),
  taskExtend: new LuaScript('task-extend'),
  taskCancel: new LuaScript('task-cancel'),
  taskRequeue: new LuaScript('task-requeue'),
  taskRateWait: new LuaScript('task-rate-wait'),
  taskProgress: new LuaScript('task-progress'),
  delayed: new LuaScript('delayed'),
  deadLetters: new LuaScript('dead-letters'),
  workers: new LuaScript('workers'),
  purgeGroups: new LuaScript('purge-groups'),
  historySend: new LuaScript('history-send'),
  historyJoin: new LuaScript('history-join'),
  historyRead: new LuaScript('history-read'),
  historyLease: new LuaScript('history-lease'),
  presenceJoin: new LuaScript('presence-join'),
  presenceLeave: new LuaScript('presence-leave'),
  presenceList: new LuaScript('presence-list'),
  presencePrune: new LuaScript('presence-prune'),
} as const

/**
 * Loads every script into `server`'s script cache, as its connection becomes ready (before the commands that waited
 * for it are sent: its 'ready' listener is registered first). A server that does not know a script refuses EVALSHA
 * with NOSCRIPT, and `run` sends it again as EVAL: behind commands sent meanwhile, so two sends of one process made
 * as a fresh, restarted or promoted Redis first sees them could arrive swapped. Sent first on the connection, the
 * loads keep every later command in the order it was made. Failures are left to NOSCRIPT and EVAL.
 */
export function preloadScripts(server: Redis): void {
  for (const script of Object.values(SCRIPTS)) server.script('LOAD', script.lua).catch(() => undefined)
}
