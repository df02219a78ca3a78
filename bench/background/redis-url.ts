/** BullMQ's connection options for a redis:// URL (BullMQ bundles its own ioredis, so pass options, not a client). */
export function bullConnection(redisUrl: string): {
  host: string
  port: number
  db: number
  maxRetriesPerRequest: null
} {
  const url = new URL(redisUrl)
  const db = Number(url.pathname.slice(1) || '0')
  return { host: url.hostname, port: Number(url.port || '6379'), db, maxRetriesPerRequest: null }
}
