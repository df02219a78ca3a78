import { spawn } from 'node:child_process'

let updated: Promise<void> | undefined

/**
 * `apt-get update` (once per process, retried: another test worker may hold the lists lock) then a non-interactive
 * `apt-get install -y` that waits for the dpkg lock instead of failing while another install holds it. Stdin is
 * closed so nothing can prompt; apt's output goes to stderr, away from a reporter's stdout.
 */
export async function aptInstall(packages: readonly string[]): Promise<void> {
  // A fresh machine has no package lists, and install would fail with "Unable to locate package".
  updated ??= aptUpdate().catch((error: unknown) => {
    updated = undefined // not remembered: a later call may retry once the network or the lock is back
    throw error
  })
  await updated
  await runApt(['-o', 'DPkg::Lock::Timeout=300', 'install', '-y', ...packages])
}

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
