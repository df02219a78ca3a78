import { spawn } from 'node:child_process'

import { isRunningAsRoot } from './provision-redis.js'

/**
 * Debian's interpreter. The `python3` first on PATH may be another build (pyenv here) that cannot import Debian's
 * `python3-*` packages, so everything interop runs this exact path.
 */
export const DEBIAN_PYTHON = '/usr/bin/python3'

/** What the Django side of test/interop/ needs (bookworm: Django 3.2, channels, channels_redis and daphne 4.0.0). */
export const DJANGO_CHANNELS_APT_PACKAGES = [
  'python3-django-channels',
  'python3-channels-redis',
  'python3-daphne',
  'python3-msgpack',
] as const

/** `cryptography` comes with python3-channels-redis; the encrypted interop tests need it, so it is checked too. */
export const DJANGO_CHANNELS_MODULES = ['django', 'channels', 'channels_redis', 'daphne', 'msgpack', 'cryptography']

// Another apt run (a concurrent provisioning step) holds the dpkg lock for a while; wait instead of failing.
const APT_LOCK_WAIT = ['-o', 'DPkg::Lock::Timeout=300'] as const

/** The command a non-root user must run, exactly as it will be shown to them. */
export function aptInstallCommand(packages: readonly string[]): string {
  return `sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y ${packages.join(' ')}`
}

interface Run {
  code: number | null
  stdout: string
  stderr: string
  /** Set when the program could not be started at all (ENOENT for a missing /usr/bin/python3). */
  spawnError?: Error
}

function run(command: string, args: readonly string[], stdio: 'capture' | 'to-stderr'): Promise<Run> {
  return new Promise((resolve) => {
    // stdin is closed so nothing can prompt; apt's progress goes to fd 2, never into a reporter's stdout.
    const child = spawn(command, args, {
      stdio: stdio === 'capture' ? ['ignore', 'pipe', 'pipe'] : ['ignore', 2, 2],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    })
    let stdout = ''
    let stderr = ''
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.once('error', (spawnError) => {
      resolve({ code: null, stdout, stderr, spawnError })
    })
    child.once('close', (code) => {
      resolve({ code, stdout, stderr })
    })
  })
}

// Imports each module on its own so the answer names exactly what is missing.
const PROBE = `
import importlib, json, sys
missing = []
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except ImportError:
        missing.append(name)
print(json.dumps(missing))
`

/** The modules Debian's python3 cannot import; all of them when there is no /usr/bin/python3. */
export async function missingDebianPythonModules(modules: readonly string[]): Promise<string[]> {
  const probe = await run(DEBIAN_PYTHON, ['-c', PROBE, ...modules], 'capture')
  if (probe.spawnError !== undefined) return [...modules]
  if (probe.code !== 0) {
    throw new Error(`${DEBIAN_PYTHON} could not check its modules (exit ${String(probe.code)}):\n${probe.stderr}`)
  }
  return JSON.parse(probe.stdout) as string[]
}

async function apt(args: readonly string[]): Promise<void> {
  const result = await run('apt-get', [...APT_LOCK_WAIT, ...args], 'to-stderr')
  if (result.spawnError !== undefined) throw result.spawnError
  if (result.code !== 0) throw new Error(`\`apt-get ${args.join(' ')}\` exited with code ${String(result.code)}`)
}

/**
 * Makes `modules` importable by Debian's python3, installing `packages` with apt when any is missing and this is
 * root; otherwise throws naming the command to run. Never skips: a suite that skips its interop tests looks green.
 * Not Django-specific, so other Python-backed tests can share it.
 */
export async function ensureDebianPythonPackages(
  packages: readonly string[],
  modules: readonly string[],
): Promise<void> {
  const missing = await missingDebianPythonModules(modules)
  if (missing.length === 0) return
  const command = aptInstallCommand(packages)
  if (!isRunningAsRoot()) {
    throw new Error(
      `${DEBIAN_PYTHON} cannot import ${missing.join(', ')}, and installing Debian packages needs root. ` +
        `Run \`${command}\`, then run the tests again.`,
    )
  }
  console.error(`[django] ${DEBIAN_PYTHON} cannot import ${missing.join(', ')}; running \`${command}\``)
  try {
    // A fresh machine has no package lists, and install would fail with "Unable to locate package".
    await apt(['update'])
    await apt(['install', '-y', ...packages])
  } catch (cause) {
    throw new Error(`Installing ${packages.join(' ')} failed; run \`${command}\` yourself to see why.`, { cause })
  }
  const stillMissing = await missingDebianPythonModules(modules)
  if (stillMissing.length > 0) {
    throw new Error(`\`${command}\` succeeded, yet ${DEBIAN_PYTHON} still cannot import ${stillMissing.join(', ')}`)
  }
}

let ensured: Promise<void> | undefined

/** Django, channels, channels_redis, daphne and msgpack for Debian's python3; checked once per test process. */
export function ensureDjangoChannels(): Promise<void> {
  ensured ??= ensureDebianPythonPackages(DJANGO_CHANNELS_APT_PACKAGES, DJANGO_CHANNELS_MODULES)
  // A failed attempt is not cached: the next call tries again (after someone ran the command, say).
  ensured.catch(() => (ensured = undefined))
  return ensured
}
