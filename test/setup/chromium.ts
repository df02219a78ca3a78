import { spawn } from 'node:child_process'
import { accessSync, constants, statSync } from 'node:fs'

import { isRunningAsRoot } from './provision-redis.js'

/** Where Debian's `chromium` package puts the browser; playwright-core drives it through `executablePath`. */
export const DEBIAN_CHROMIUM = '/usr/bin/chromium'

export const CHROMIUM_INSTALL_COMMAND = 'apt-get install -y chromium'

export type ChromiumPlan =
  { kind: 'ready'; path: string } | { kind: 'install'; command: string } | { kind: 'fail'; message: string }

export interface PlanChromiumInput {
  /** Whether `/usr/bin/chromium` exists and is executable. */
  present: boolean
  isRoot: boolean
}

/** Decides what to do; kept pure so that every branch is unit-testable without touching the machine. */
export function planChromium({ present, isRoot }: PlanChromiumInput): ChromiumPlan {
  if (present) return { kind: 'ready', path: DEBIAN_CHROMIUM }
  if (isRoot) return { kind: 'install', command: CHROMIUM_INSTALL_COMMAND }
  // Never a skip, in CI or not: browser tests that quietly skip prove nothing and look green.
  return {
    kind: 'fail',
    message:
      `The browser tests need Debian's Chromium at ${DEBIAN_CHROMIUM}. ` +
      `Install it with \`sudo apt-get update && sudo ${CHROMIUM_INSTALL_COMMAND}\`.`,
  }
}

function isExecutable(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

let installing: Promise<void> | undefined

/**
 * The path of a Chromium that playwright-core can launch: Debian's, installed with apt when running as root
 * (`apt-get update` once per process, then a non-interactive install); otherwise throws an error naming the exact
 * command. Chromium is large, so only the browser tests call this (from their `beforeAll`), not the global setup.
 */
export async function ensureChromium(): Promise<string> {
  const plan = planChromium({ present: isExecutable(DEBIAN_CHROMIUM), isRoot: isRunningAsRoot() })
  if (plan.kind === 'ready') return plan.path
  if (plan.kind === 'fail') throw new Error(plan.message)

  console.error(`[chromium] ${DEBIAN_CHROMIUM} not found; running \`apt-get update && ${plan.command}\``)
  installing ??= (async () => {
    // A fresh machine has no package lists, and install would fail with "Unable to locate package".
    await aptUpdate()
    // Waits for the dpkg lock rather than failing when another install (e.g. redis-server) holds it.
    await runApt(['-o', 'DPkg::Lock::Timeout=120', 'install', '-y', 'chromium'])
  })().catch((cause: unknown) => {
    installing = undefined // not remembered: a later call may retry once the network or the lock is back
    throw new Error(`Installing Chromium failed. Run \`apt-get update && ${plan.command}\` yourself.`, { cause })
  })
  await installing
  if (!isExecutable(DEBIAN_CHROMIUM)) {
    throw new Error(`\`${plan.command}\` succeeded, but ${DEBIAN_CHROMIUM} is still missing`)
  }
  return DEBIAN_CHROMIUM
}

/**
 * `apt-get update`, tried three times: another test file may be running apt at the same moment (the Python interop
 * tests install their packages the same way), and unlike install, update does not wait for the lists lock.
 */
async function aptUpdate(): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await runApt(['-o', 'DPkg::Lock::Timeout=120', 'update'])
      return
    } catch (error) {
      if (attempt >= 3) throw error
      await new Promise((resolve) => setTimeout(resolve, 10_000))
    }
  }
}

function runApt(args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    // stdin is closed so that nothing can prompt; apt's progress goes to stderr, away from a reporter's stdout.
    const child = spawn('apt-get', args, {
      stdio: ['ignore', 2, 2],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    })
    child.once('error', reject)
    child.once('exit', (code, signal) => {
      if (code === 0) resolve()
      else reject(new Error(`\`apt-get ${args.join(' ')}\` exited with ${signal ?? `code ${String(code)}`}`))
    })
  })
}
