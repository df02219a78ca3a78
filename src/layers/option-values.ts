import { InvalidOptionError } from '../errors.js'

/** Option value checks shared by every options resolver (layers, history, presence, tasks, server). */

export function positiveInteger(option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidOptionError(option, 'a positive integer', value)
  }
  return value
}

export function nonNegativeInteger(option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidOptionError(option, 'a non-negative integer', value)
  }
  return value
}

/** fnmatch semantics, as Channels: `*` any run, `?` one character, `[seq]`/`[!seq]` classes, anchored. */
export function globToRegExp(glob: string): RegExp {
  let source = ''
  for (let i = 0; i < glob.length; i++) {
    const char = glob.charAt(i)
    if (char === '*') source += '.*'
    else if (char === '?') source += '.'
    else if (char === '[') {
      const close = glob.indexOf(']', i + 2)
      if (close === -1) source += '\\['
      else {
        let body = glob.slice(i + 1, close)
        if (body.startsWith('!')) body = `^${body.slice(1)}`
        source += `[${body.replace(/\\/g, '\\\\')}]`
        i = close
      }
    } else source += char.replace(/[.+^${}()|\\/]/g, '\\$&')
  }
  return new RegExp(`^${source}$`, 's')
}
