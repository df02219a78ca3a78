/** How the watch reads the world; each defaults to the real thing. Tests replace them. */
export interface LauncherWatchOptions {
  /** The environment the command started with: npm sets `npm_command` for `npm run`, `npm start` and `npx`. */
  readonly env?: NodeJS.ProcessEnv
  /** The parent's pid, read anew each time (`process.ppid`). */
  readonly ppid?: () => number
  /** How often to look; the timer never keeps the process alive. */
  readonly intervalMs?: number
}

/** Half a second: a supervisor's stop timeout is ten seconds or more, and a check is one system call. */
const DEFAULT_INTERVAL_MS = 500

/**
 * Calls `listener` once if npm, which started this command, goes away. `npx switchyard serve` and an npm script
 * run the command through `sh -c`; a SIGTERM to npm (a supervisor or a container stopping it) kills npm and the
 * shell, but the shell does not pass the signal on, so the command would go on as an orphan: a server still
 * serving, a worker still claiming tasks. Its parent then changes, which this notices. Only under npm: a command
 * started some other way may be detached from its parent on purpose (`setsid`, `nohup`). Returns a disposer.
 *
 * @example
 * ```ts
 * const stop = onLauncherExit(() => process.kill(process.pid, 'SIGTERM'))
 * ```
 */
export function onLauncherExit(listener: () => void, options: LauncherWatchOptions = {}): () => void {
  const { env = process.env, ppid = () => process.ppid, intervalMs = DEFAULT_INTERVAL_MS } = options
  if (env.npm_command === undefined || env.npm_command === '') return () => undefined
  const original = ppid()
  const timer = setInterval(() => {
    if (ppid() === original) return
    clearInterval(timer)
    listener()
  }, intervalMs)
  timer.unref()
  return () => {
    clearInterval(timer)
  }
}
