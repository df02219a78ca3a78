import { InvalidChannelNameError } from '../errors.js'

/** Channels' limit: names are strictly shorter than this. */
export const MAX_NAME_LENGTH = 100

// Channels' BaseChannelLayer regexes, made ASCII-only (Python's \w is Unicode-aware; ours is slightly stricter).
const CHANNEL_NAME = /^[a-zA-Z0-9_.-]+(?:![a-zA-Z0-9_.-]*)?$/
const GROUP_NAME = /^[a-zA-Z0-9_.-]+$/
const NAME_CHARS = 'ASCII letters, digits, hyphens, underscores and periods'

/** Throws `InvalidChannelNameError` unless `name` is a valid channel name (optionally one `!` + local part). */
export function assertChannelName(name: unknown): asserts name is string {
  assertName('channel', name)
}

/** Throws `InvalidChannelNameError` unless `name` is a valid group name (no `!`). */
export function assertGroupName(name: unknown): asserts name is string {
  assertName('group', name)
}

function assertName(kind: 'channel' | 'group', name: unknown): void {
  if (typeof name !== 'string') {
    throw new InvalidChannelNameError(kind, name, 'it must be a string')
  }
  if (name.length === 0 || name.length >= MAX_NAME_LENGTH) {
    throw new InvalidChannelNameError(
      kind,
      name,
      `it must be 1 to ${MAX_NAME_LENGTH - 1} characters long (it has ${name.length})`,
    )
  }
  if (kind === 'group' && !GROUP_NAME.test(name)) {
    throw new InvalidChannelNameError(kind, name, `group names may contain only ${NAME_CHARS}`)
  }
  if (kind === 'channel' && !CHANNEL_NAME.test(name)) {
    throw new InvalidChannelNameError(
      kind,
      name,
      `channel names may contain only ${NAME_CHARS}, optionally followed by one "!" and a local part of the same characters`,
    )
  }
}

/** Whether `assertChannelName` would accept `name`, without making an error. */
export function isChannelName(name: string): boolean {
  return name.length > 0 && name.length < MAX_NAME_LENGTH && CHANNEL_NAME.test(name)
}

/** True for process-specific names (`specific.abc!local`). */
export function isProcessSpecific(channel: string): boolean {
  return channel.includes('!')
}

/** The part of a process-specific name up to and including `!` (Channels' `non_local_name`); others unchanged. */
export function nonLocalName(channel: string): string {
  const bang = channel.indexOf('!')
  return bang === -1 ? channel : channel.slice(0, bang + 1)
}
