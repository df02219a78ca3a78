import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

import { aptInstall } from './apt.js'
import { isRunningAsRoot } from './provision-redis.js'

/**
 * Debian's own interpreter, not the first `python3` on PATH (pyenv and friends have their own site-packages,
 * where `apt-get install python3-…` puts nothing).
 */
export const DEBIAN_PYTHON = '/usr/bin/python3'

const execFileAsync = promisify(execFile)
const MODULE_NAME = /^[A-Za-z_][\w.]*$/
const PACKAGE_NAME = /^[a-z0-9][a-z0-9+.-]+$/

export type PythonPackagesPlan =
  { kind: 'ready' } | { kind: 'install'; command: string } | { kind: 'fail'; message: string }

export interface PlanPythonPackagesInput {
  packages: readonly string[]
  /** Whether `/usr/bin/python3 -c 'import <modules>'` succeeded. */
  importsOk: boolean
  isRoot: boolean
}

export function aptInstallCommand(packages: readonly string[]): string {
  return `apt-get install -y ${packages.join(' ')}`
}

/** Decides what to do; kept pure so that every branch is unit-testable without touching the machine. */
export function planPythonPackages({ packages, importsOk, isRoot }: PlanPythonPackagesInput): PythonPackagesPlan {
  if (importsOk) return { kind: 'ready' }
  const command = aptInstallCommand(packages)
  if (isRoot) return { kind: 'install', command }
  // Never a skip, in CI or not: a cross-language test that quietly skips proves nothing and looks green.
  return {
    kind: 'fail',
    message:
      `The Python interop tests need Debian's python3 with ${packages.join(', ')}. ` +
      `Install them with \`sudo apt-get update && sudo ${command}\`.`,
  }
}

/** True when Debian's python3 exists and imports every module. */
export async function debianPythonImports(modules: readonly string[]): Promise<boolean> {
  try {
    await execFileAsync(DEBIAN_PYTHON, ['-I', '-c', `import ${modules.join(', ')}`], { timeout: 30_000 })
    return true
  } catch {
    return false
  }
}

/**
 * Makes `/usr/bin/python3` import `modules`, installing the Debian `packages` that provide them when running as
 * root (`apt-get update` once per process, then a non-interactive install); otherwise throws an error that names
 * the exact install command.
 */
export async function ensureDebianPythonPackages(packages: string[], modules: string[]): Promise<void> {
  for (const name of packages) if (!PACKAGE_NAME.test(name)) throw new Error(`not a Debian package name: ${name}`)
  for (const name of modules) if (!MODULE_NAME.test(name)) throw new Error(`not a Python module name: ${name}`)

  const plan = planPythonPackages({
    packages,
    importsOk: await debianPythonImports(modules),
    isRoot: isRunningAsRoot(),
  })
  if (plan.kind === 'ready') return
  if (plan.kind === 'fail') throw new Error(plan.message)

  console.error(`[python-packages] ${DEBIAN_PYTHON} cannot import ${modules.join(', ')}; running \`${plan.command}\``)
  try {
    await aptInstall(packages)
  } catch (cause) {
    throw new Error(`Installing ${packages.join(', ')} failed. Run \`${plan.command}\` yourself.`, { cause })
  }
  if (!(await debianPythonImports(modules))) {
    throw new Error(`\`${plan.command}\` succeeded, but ${DEBIAN_PYTHON} still cannot import ${modules.join(', ')}`)
  }
}
