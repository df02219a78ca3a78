/**
 * The Django side of the interop tests: daphne and `runworker` processes, the one-shot scripts under
 * `django/scripts/`, and the `{"__bytes__": base64}` tagging both sides use to put bytes through JSON.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'

import { Redis } from 'ioredis'

import type { Message, MessageValue } from '../../src/layers/channel-layer.js'
import { DEBIAN_PYTHON } from '../setup/python-packages.js'

/** The Django project; it is also the PYTHONPATH every Python process gets. */
export const DJANGO_PROJECT_DIR = fileURLToPath(new URL('./django/', import.meta.url))

/** How the Django side reaches the layer; mirrors the Node layer's options so one value configures both. */
export interface DjangoLayerConfig {
  readonly redisUrl: string
  /** channels_redis `prefix`: used as is, no separator added (`<prefix><channel>`, `<prefix>:group:<group>`). */
  readonly prefix: string
  /** channels_redis `symmetric_encryption_keys`; none means unencrypted. */
  readonly keys?: readonly string[] | undefined
  /** channels_redis `expiry`, seconds; its default (60) when absent. */
  readonly expirySeconds?: number | undefined
  /** channels_redis `capacity`; its default (100) when absent. */
  readonly capacity?: number | undefined
}

function pythonEnv(config: DjangoLayerConfig): NodeJS.ProcessEnv {
  // PYTHONHOME/PYTHONPATH from another interpreter (pyenv) would break Debian's; PYTHONDONTWRITEBYTECODE keeps
  // __pycache__ out of the work tree; PYTHONUNBUFFERED makes log lines arrive as they are written.
  const { PYTHONHOME: _home, PYTHONPATH: _path, ...inherited } = process.env
  return {
    ...inherited,
    PYTHONPATH: DJANGO_PROJECT_DIR,
    PYTHONDONTWRITEBYTECODE: '1',
    PYTHONUNBUFFERED: '1',
    DJANGO_SETTINGS_MODULE: 'interop_project.settings',
    REDIS_URL: config.redisUrl,
    CHANNELS_PREFIX: config.prefix,
    CHANNELS_KEYS: (config.keys ?? []).join(','),
    CHANNELS_EXPIRY: config.expirySeconds === undefined ? '' : String(config.expirySeconds),
    CHANNELS_CAPACITY: config.capacity === undefined ? '' : String(config.capacity),
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Bytes tagging

/** JSON that stands for a message value: bytes are `{"__bytes__": "<base64>"}`. */
export type Tagged = string | number | boolean | null | Tagged[] | { [key: string]: Tagged }

const BYTES_TAG = '__bytes__'

/** A JSON-ready copy: each Uint8Array becomes `{"__bytes__": base64}`; undefined fields are left out, as JSON does. */
export function tag(value: MessageValue): Tagged {
  if (value instanceof Uint8Array) return { [BYTES_TAG]: Buffer.from(value).toString('base64') }
  if (Array.isArray(value)) return (value as readonly MessageValue[]).map(tag)
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, Tagged> = {}
    for (const [key, item] of Object.entries(value)) if (item !== undefined) out[key] = tag(item)
    return out
  }
  return value
}

/** The inverse of `tag`: exactly `{"__bytes__": string}` becomes a Uint8Array. */
export function untag(value: Tagged): MessageValue {
  if (Array.isArray(value)) return value.map(untag)
  if (typeof value === 'object' && value !== null) {
    const keys = Object.keys(value)
    const encoded = value[BYTES_TAG]
    if (keys.length === 1 && typeof encoded === 'string') return new Uint8Array(Buffer.from(encoded, 'base64'))
    const out: Record<string, MessageValue> = {}
    for (const key of keys) out[key] = untag(value[key]!)
    return out
  }
  return value
}

/** `untag` for a whole message: it must be an object with a string `type`. */
export function untagMessage(value: Tagged): Message {
  const message = untag(value)
  if (typeof message !== 'object' || message === null || Array.isArray(message) || !('type' in message)) {
    throw new Error(`expected a tagged message, got ${JSON.stringify(value)}`)
  }
  if (typeof message.type !== 'string') throw new Error(`message type must be a string: ${JSON.stringify(value)}`)
  return message as Message
}

/** A value's type tree in Python's names (`int`/`float`/`str`/`bytes`/`bool`/`null`), as receive.py --types gives. */
export type TypeTree = string | TypeTree[] | { [key: string]: TypeTree }

/**
 * What Python should see for `value` once it crosses: a safe integer must arrive as an int (msgpack int family),
 * any other number as a float (1e308 is integral, but only a float64 holds it); JSON alone cannot show this.
 */
export function describeTypes(value: MessageValue): TypeTree {
  if (value === null) return 'null'
  if (value instanceof Uint8Array) return 'bytes'
  if (Array.isArray(value)) return (value as readonly MessageValue[]).map(describeTypes)
  switch (typeof value) {
    case 'boolean':
      return 'bool'
    case 'number':
      return Number.isSafeInteger(value) ? 'int' : 'float'
    case 'string':
      return 'str'
    default: {
      const out: Record<string, TypeTree> = {}
      for (const [key, item] of Object.entries(value)) if (item !== undefined) out[key] = describeTypes(item)
      return out
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// One-shot scripts

/** A script under `django/scripts/` that exited non-zero; `exitCode` 2 is receive.py's timeout. */
export class PythonScriptError extends Error {
  constructor(
    readonly script: string,
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(`${script} exited with ${exitCode === null ? 'a signal' : `code ${exitCode}`}:\n${stderr}`)
    this.name = 'PythonScriptError'
  }
}

/** Exit code receive.py uses when no message arrived in time. */
export const RECEIVE_TIMEOUT_EXIT = 2

/**
 * Runs `django/scripts/<script>` with Debian's python3 and the layer `config`, writes `stdinJson` (if any) to its
 * stdin, and returns its stdout parsed as JSON. A non-zero exit rejects with a PythonScriptError carrying stderr.
 */
export function runPython(
  config: DjangoLayerConfig,
  script: string,
  args: readonly string[],
  stdinJson?: Tagged,
  timeoutMs = 30_000,
): Promise<unknown> {
  const child = spawn(DEBIAN_PYTHON, [`${DJANGO_PROJECT_DIR}scripts/${script}`, ...args], {
    env: pythonEnv(config),
    stdio: ['pipe', 'pipe', 'pipe'],
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  child.stdin.on('error', () => undefined) // a script that dies early closes its stdin; the exit code says why
  child.stdin.end(stdinJson === undefined ? '' : JSON.stringify(stdinJson))
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code) => {
      if (code !== 0) {
        reject(new PythonScriptError(script, code, stderr))
        return
      }
      try {
        resolve(JSON.parse(stdout))
      } catch (cause) {
        reject(new Error(`${script} printed no JSON: ${JSON.stringify(stdout)}\n${stderr}`, { cause }))
      }
    })
  })
}

/** `channel_layer.send(channel, message)` from Python. */
export async function pythonSend(config: DjangoLayerConfig, channel: string, message: Message): Promise<void> {
  await runPython(config, 'send.py', [channel], tag(message))
}

/** `channel_layer.send(channel, message)` from Python for each message, in order, from one process. */
export async function pythonSendMany(
  config: DjangoLayerConfig,
  channel: string,
  messages: readonly Message[],
): Promise<void> {
  await runPython(
    config,
    'send_many.py',
    [channel],
    messages.map((message) => tag(message)),
    120_000,
  )
}

/** `channel_layer.group_send(group, message)` from Python. */
export async function pythonGroupSend(config: DjangoLayerConfig, group: string, message: Message): Promise<void> {
  await runPython(config, 'group_send.py', [group], tag(message))
}

/** What Python's `channel_layer.receive(channel)` returned, still tagged, with the Python type of every leaf. */
export interface PythonReceived {
  readonly message: Tagged
  readonly types: TypeTree
}

/** `channel_layer.receive(channel)` in Python; rejects with exit code 2 after `timeoutS` without a message. */
export async function pythonReceive(
  config: DjangoLayerConfig,
  channel: string,
  timeoutS: number,
): Promise<PythonReceived> {
  return (await runPython(config, 'receive.py', [channel, String(timeoutS), '--types'])) as PythonReceived
}

// ---------------------------------------------------------------------------------------------------------------
// Long-running processes

const OUTPUT_TAIL_CHARS = 16 * 1024

export interface DjangoProcess {
  readonly name: string
  readonly pid: number
  /** The last 16 KiB of its stdout and stderr, for failure messages. */
  output(): string
  /** SIGTERM, then SIGKILL after 5 s; resolves once it has exited. Idempotent. */
  stop(): Promise<void>
}

export interface Daphne extends DjangoProcess {
  readonly port: number
  /** `ws://127.0.0.1:<port>` */
  readonly wsBase: string
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) =>
    child.once('exit', () => {
      resolve()
    }),
  )
}

/**
 * Spawns Debian's python3 with `args` in the Django project and resolves once its output matches `ready`
 * (rejecting, with the output so far, if it exits first or takes longer than `timeoutMs`).
 */
async function startPythonProcess(
  name: string,
  config: DjangoLayerConfig,
  args: readonly string[],
  ready: RegExp,
  timeoutMs: number,
): Promise<{ process: DjangoProcess; match: RegExpExecArray }> {
  const child = spawn(DEBIAN_PYTHON, args, {
    cwd: DJANGO_PROJECT_DIR,
    env: pythonEnv(config),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  // A crashed test runner must not leave Django processes behind.
  const killOnExit = (): void => {
    child.kill('SIGKILL')
  }
  process.once('exit', killOnExit)

  let stopping: Promise<void> | undefined
  const handle: DjangoProcess = {
    name,
    pid: child.pid ?? -1,
    output: () => output,
    stop: () => {
      stopping ??= (async () => {
        const done = exited(child)
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM')
          const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
          await done
          clearTimeout(timer)
        }
        process.off('exit', killOnExit)
      })()
      return stopping
    },
  }

  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    const fail = (why: string): void => {
      clearTimeout(timer)
      reject(new Error(`${name} ${why}\n--- ${name} output ---\n${output}`))
    }
    const onData = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-OUTPUT_TAIL_CHARS)
      const found = ready.exec(output)
      if (found !== null) {
        clearTimeout(timer)
        resolve(found)
      }
    }
    const timer = setTimeout(() => {
      fail(`did not print ${String(ready)} within ${timeoutMs} ms`)
    }, timeoutMs)
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.once('error', (error) => {
      fail(`could not start: ${error.message}`)
    })
    child.once('exit', (code, signal) => {
      fail(`exited during startup (${signal ?? `code ${String(code)}`})`)
    })
  }).catch(async (error: unknown) => {
    await handle.stop()
    throw error
  })
  return { process: handle, match }
}

/**
 * Serves the project's ASGI application with daphne on a port the OS picks (`-p 0`, read back from daphne's
 * "Listening on TCP address" line, so no other process can take the port between choosing and binding it).
 */
export async function startDaphne(config: DjangoLayerConfig, timeoutMs = 30_000): Promise<Daphne> {
  const { process: handle, match } = await startPythonProcess(
    'daphne',
    config,
    ['-m', 'daphne', '-b', '127.0.0.1', '-p', '0', 'interop_project.asgi:application'],
    /Listening on TCP address 127\.0\.0\.1:(\d+)/,
    timeoutMs,
  )
  const port = Number(match[1])
  return { ...handle, port, wsBase: `ws://127.0.0.1:${port}` }
}

/**
 * `manage.py runworker <channels>`; ready once it logs "Running worker for channels". Messages sent to a normal
 * channel before then simply wait in Redis, so this only catches a worker that cannot start.
 */
export async function startRunworker(
  config: DjangoLayerConfig,
  channels: readonly string[] = ['django-tasks'],
  timeoutMs = 30_000,
): Promise<DjangoProcess> {
  const { process: handle } = await startPythonProcess(
    'runworker',
    config,
    ['manage.py', 'runworker', ...channels],
    /Running worker for channels/,
    timeoutMs,
  )
  return handle
}

// ---------------------------------------------------------------------------------------------------------------
// Redis housekeeping

/** A prefix no other test uses, fixed length so that no prefix's `KEYS <prefix>*` can match another's keys. */
export function uniquePrefix(): string {
  return `swyinterop${randomBytes(8).toString('hex')}`
}

/** Deletes every key under `prefix` (both sides' messages, groups and in-flight backups). */
export async function deletePrefix(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 })
  try {
    await redis.connect()
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
      cursor = next
      if (keys.length > 0) await redis.del(...keys)
    } while (cursor !== '0')
  } finally {
    redis.disconnect()
  }
}
