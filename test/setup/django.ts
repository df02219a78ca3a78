import { ensureDebianPythonPackages } from './python-packages.js'

/** What the Django side of test/interop/ needs (bookworm: Django 3.2, channels, channels_redis and daphne 4.0.0). */
export const DJANGO_CHANNELS_APT_PACKAGES = [
  'python3-django-channels',
  'python3-channels-redis',
  'python3-daphne',
  'python3-msgpack',
]

/** `cryptography` comes with python3-channels-redis; the encrypted interop tests need it, so it is checked too. */
export const DJANGO_CHANNELS_MODULES = ['django', 'channels', 'channels_redis', 'daphne', 'msgpack', 'cryptography']

let ensured: Promise<void> | undefined

/**
 * Makes Debian's python3 (`/usr/bin/python3`, not the first `python3` on PATH) import Django, channels,
 * channels_redis, daphne and msgpack: installs them with apt as root, otherwise throws naming the command. Never
 * skips. Checked once per test process.
 */
export function ensureDjangoChannels(): Promise<void> {
  ensured ??= ensureDebianPythonPackages([...DJANGO_CHANNELS_APT_PACKAGES], [...DJANGO_CHANNELS_MODULES])
  // A failed attempt is not remembered: the next call checks again (after someone ran the command, say).
  ensured.catch(() => (ensured = undefined))
  return ensured
}
