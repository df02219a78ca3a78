/**
 * Resolves once `work` settles, whichever way (the caller moves on regardless), or at `deadline` (epoch ms) if that
 * comes first. For shutdown steps that talk to a server: one that does not answer (frozen, or cut off by a partition
 * that sends no reset, where a command waits for ever) must not hold a process that is stopping.
 *
 * @example
 * ```ts
 * await settledBy(client.quit(), Date.now() + 2_000)
 * client.disconnect()
 * ```
 */
export function settledBy(work: Promise<unknown>, deadline: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))
    const done = (): void => {
      clearTimeout(timer)
      resolve()
    }
    work.then(done, done)
  })
}
