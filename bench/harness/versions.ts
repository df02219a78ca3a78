/** The versions of everything a run measured, for the report: Node packages, redis-server and the Python side. */
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { promisify } from 'node:util'

import { DEBIAN_PYTHON } from '../../test/setup/python-packages.js'

const execFileAsync = promisify(execFile)
const NODE_PACKAGES = [
  'ws',
  'fastify',
  '@fastify/websocket',
  'ioredis',
  'socket.io',
  '@socket.io/redis-adapter',
  'bullmq',
]
const PYTHON_MODULES = ['django', 'channels', 'channels_redis', 'daphne']

async function packageVersion(name: string): Promise<string> {
  try {
    const url = new URL(`../../node_modules/${name}/package.json`, import.meta.url)
    return (JSON.parse(await readFile(url, 'utf8')) as { version: string }).version
  } catch {
    return 'not installed'
  }
}

async function output(command: string, args: readonly string[]): Promise<string | undefined> {
  try {
    return (await execFileAsync(command, args, { timeout: 10_000 })).stdout.trim()
  } catch {
    return undefined
  }
}

export async function collectVersions(): Promise<Record<string, string>> {
  const versions: Record<string, string> = { node: process.version }
  for (const name of NODE_PACKAGES) versions[name] = await packageVersion(name)
  const redis = await output('redis-server', ['--version'])
  versions['redis-server'] = /v=(\S+)/.exec(redis ?? '')?.[1] ?? 'unknown'
  const script = `import importlib.metadata as m, sys; print(sys.version.split()[0]); [print(m.version(n)) for n in ${JSON.stringify(PYTHON_MODULES.map((n) => n.replace('_', '-')))}]`
  const python = (await output(DEBIAN_PYTHON, ['-c', script]))?.split('\n')
  versions.python = python?.[0] ?? 'not installed'
  PYTHON_MODULES.forEach((name, i) => (versions[name] = python?.[i + 1] ?? 'not installed'))
  return versions
}
