/** Why `switchyard serve` could not listen, in one line that says what to change. */
import { CommandError } from './command-error.js'

/** Where the port `serve` tried came from: the advice differs. */
export type PortSource = '--port' | 'PORT' | 'default'

interface ListenFailure {
  readonly code?: unknown
  readonly address?: unknown
  readonly port?: unknown
  readonly hostname?: unknown
}

/**
 * A `CommandError` explaining a failed `listen` (port in use, a privileged port, an address not on this machine, a
 * host name that does not resolve), or undefined for any other error, which the caller rethrows as it is.
 *
 * @example
 * ```ts
 * explainListenError(error, { host: '127.0.0.1', portSource: '--port' })?.message
 * // 'port 8000 on 127.0.0.1 (from --port) is in use by another process; stop it, or pass another --port (0 picks a free one)'
 * ```
 */
export function explainListenError(
  error: unknown,
  { host, portSource }: { readonly host: string | undefined; readonly portSource: PortSource },
): CommandError | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const { code, address, port } = error as ListenFailure
  const where = typeof address === 'string' ? address : (host ?? 'the host')
  const which = typeof port === 'number' ? `port ${port}` : 'the port'
  const source = { '--port': 'from --port', PORT: 'from $PORT', default: 'the default' }[portSource]
  const other =
    portSource === 'PORT'
      ? 'set PORT to another port, or pass --port'
      : `pass ${portSource === '--port' ? 'another' : 'a'} --port`
  switch (code) {
    case 'EADDRINUSE':
      return new CommandError(
        `${which} on ${where} (${source}) is in use by another process; stop it, or ${other} (0 picks a free one)`,
        { cause: error },
      )
    case 'EACCES':
      return new CommandError(
        `no permission to listen on ${which} of ${where} (${source}): ports below 1024 need privileges; ${other} ` +
          'of 1024 or more, e.g. 8000',
        { cause: error },
      )
    case 'EADDRNOTAVAIL':
      return new CommandError(
        `cannot listen on ${where}: it is not an address of this machine; pass --host 127.0.0.1 (this machine only) ` +
          'or 0.0.0.0 (every interface)',
        { cause: error },
      )
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new CommandError(
        `--host ${JSON.stringify(host ?? where)} does not resolve to an address of this machine; pass an IP address such as ` +
          '127.0.0.1 or 0.0.0.0',
        { cause: error },
      )
    default:
      return undefined
  }
}
