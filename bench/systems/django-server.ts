/**
 * Django Channels under test: daphne serving bench_app.py (django/) on Debian's python3, with channels_redis.
 * Not a Node process, so the handle reads CPU time and RSS from /proc instead of asking over IPC.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFile } from 'node:fs/promises'
import { connect, createServer, type AddressInfo } from 'node:net'
import { setTimeout as delay } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'

import { ensureDjangoChannels } from '../../test/setup/django.js'
import { DEBIAN_PYTHON } from '../../test/setup/python-packages.js'
import { stopChild } from '../harness/ipc.js'
import { procCpuMs } from '../harness/redis.js'
import type { ServerHandle } from '../harness/server-process.js'
import type { RunEnv } from './systems.js'

const START_TIMEOUT_MS = 30_000

/**
 * The Python side of the Django system (bench_app.py, bench_publisher.py), put on PYTHONPATH. Reached through
 * `../systems/`, the same directory from here and from bench/.build/, where child processes run bundled.
 */
export const DJANGO_DIR = fileURLToPath(new URL('../systems/django/', import.meta.url))

/** The environment of a Python process of the Django system: `env` (BENCH_*), our PYTHONPATH and no .pyc files. */
export function djangoProcessEnv(env: RunEnv): NodeJS.ProcessEnv {
  // Bytecode caches would litter bench/systems/django/ with __pycache__; Django starts fast enough without them.
  return { ...process.env, ...env, PYTHONPATH: DJANGO_DIR, PYTHONDONTWRITEBYTECODE: '1' }
}

/** A port the kernel just handed out and released; daphne takes it a moment later (a race no run has lost yet). */
async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => {
    server.close(() => {
      resolve()
    })
  })
  return port
}

function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => {
      resolve(false)
    })
  })
}

/** Resident set size from /proc/<pid>/status (`VmRSS: <n> kB`). */
async function procRssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status)
  if (match?.[1] === undefined) throw new Error(`no VmRSS in /proc/${pid}/status`)
  return Number(match[1]) * 1024
}

/** Installs Django Channels if needed (apt, as root), starts daphne on a free port, resolves once it accepts. */
export async function startDjangoServer(env: RunEnv): Promise<ServerHandle> {
  await ensureDjangoChannels()
  const port = await freePort()
  const args = ['-m', 'daphne', '-v', '0', '-b', '127.0.0.1', '-p', String(port), 'bench_app:application']
  const child = spawn(DEBIAN_PYTHON, args, {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: djangoProcessEnv(env),
  })
  await once(child, 'spawn') // rejects with the spawn error (ENOENT, EACCES) instead
  const { pid } = child
  if (pid === undefined) throw new Error('daphne spawned without a pid')
  const deadline = Date.now() + START_TIMEOUT_MS
  while (!(await acceptsConnections(port))) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      await stopChild(child)
      throw new Error(`daphne did not listen on 127.0.0.1:${port} within ${START_TIMEOUT_MS} ms (or it exited)`)
    }
    await delay(100)
  }
  return {
    url: `ws://127.0.0.1:${port}`,
    pid,
    cpuMs: async () => {
      const ms = await procCpuMs(pid)
      if (ms === undefined) throw new Error(`cannot read the CPU time of daphne (pid ${pid}) from /proc`)
      return ms
    },
    memory: async () => ({ heapUsedBytes: null, rssBytes: await procRssBytes(pid) }),
    stop: () => stopChild(child),
  }
}
