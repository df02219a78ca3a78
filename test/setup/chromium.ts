import { accessSync, constants, statSync } from 'node:fs'

import { aptInstall } from './apt.js'
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
    await aptInstall(['chromium'])
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
