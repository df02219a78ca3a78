import { spawn, type ChildProcess } from 'node:child_process'

import { waitFor } from './wait.js'

/** A long-running child process (a server, a worker) whose output a test waits on. */
export interface Spawned {
  readonly child: ChildProcess
  readonly pid: number
  /** Everything written so far. */
  output(): { stdout: string; stderr: string }
  /** Resolves with the first match of `pattern` in stdout and stderr together; throws with the output on timeout. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>
  /** Resolves once the process has exited, with its code or signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /**
   * SIGKILL to the process and everything it started (its process group), whether or not it has exited: a launcher
   * (`npx`, `npm`) killed alone leaves its command running, serving the next test's channels. For `finally` blocks.
   */
  kill(): void
}

export function spawnProcess(
  command: string,
  args: readonly string[],
  { cwd, env }: { cwd: string; env: NodeJS.ProcessEnv },
): Spawned {
  // A process group of its own, so `kill` reaches what a launcher started too.
  const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      resolve({ code, signal })
    })
  })
  if (child.pid === undefined) throw new Error(`could not start ${command}`)
  const pid = child.pid
  return {
    child,
    pid,
    output: () => ({ stdout, stderr }),
    async waitForOutput(pattern, timeoutMs = 20_000) {
      let match: RegExpExecArray | null = null
      try {
        await waitFor(
          `${String(pattern)} in the output of ${command} ${args.join(' ')}`,
          () => (match = pattern.exec(`${stdout}\n${stderr}`)) !== null,
          { timeoutMs, intervalMs: 50 },
        )
      } catch (error) {
        throw new Error(`${(error as Error).message}\nstdout:\n${stdout}\nstderr:\n${stderr}`, { cause: error })
      }
      return match as unknown as RegExpExecArray
    },
    exited,
    kill() {
      try {
        process.kill(-pid, 'SIGKILL')
      } catch {
        // The whole group is gone already.
      }
    },
  }
}

/** True while a process with this pid exists (signal 0 checks without sending anything). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/**
 * Sends SIGTERM to a launcher alone (`npx`, `npm`), as a supervisor or `docker stop` does, and waits until both it
 * and the command it started (`commandPid`) are gone: the command must not outlive it as an orphan.
 */
export async function terminateLauncher(launcher: Spawned, commandPid: number, timeoutMs = 10_000): Promise<void> {
  process.kill(launcher.pid, 'SIGTERM')
  await launcher.exited
  await waitFor(`the command (pid ${commandPid}) to exit after its launcher did`, () => !isAlive(commandPid), {
    timeoutMs,
  })
}
