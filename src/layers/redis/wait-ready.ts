import type { Cluster, Redis } from 'ioredis'

/** Resolves once `client` is ready, closed for good, or at the deadline, whichever comes first. */
export async function waitReady(client: Redis | Cluster, deadline: number): Promise<void> {
  if (client.status === 'ready') return
  const remaining = deadline - Date.now()
  if (remaining <= 0) return
  await new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer)
      client.off('ready', done)
      client.off('end', done)
      resolve()
    }
    const timer = setTimeout(done, remaining)
    client.once('ready', done)
    // Closed for good (close() disconnects): it will never be ready, and close() must not wait out the timer.
    client.once('end', done)
  })
}
