import type { Redis } from 'ioredis'

/** `INFO <sections…>` as numbers; `cmdstat_*` lines are split into `cmdstat_x.calls`, `cmdstat_x.usec`, … */
export async function info(client: Redis, ...sections: string[]): Promise<Map<string, number>> {
  const text = String(await client.call('INFO', ...sections))
  const fields = new Map<string, number>()
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':')
    if (colon === -1 || line.startsWith('#')) continue
    const name = line.slice(0, colon)
    const value = line.slice(colon + 1)
    if (name.startsWith('cmdstat_')) {
      for (const pair of value.split(',')) {
        const [key, number] = pair.split('=')
        if (key !== undefined && number !== undefined) fields.set(`${name}.${key}`, Number(number))
      }
    } else if (/^-?\d+(\.\d+)?$/.test(value)) {
      fields.set(name, Number(value))
    }
  }
  return fields
}
