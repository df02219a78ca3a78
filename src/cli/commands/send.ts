import type { ChannelLayer, Message } from '../../layers/channel-layer.js'
import { integerOption, parseCommandArgs, runParsed, UsageError } from '../command-args.js'
import type { CommandIo } from '../command-error.js'
import { hasRedisUrl } from '../layer-summary.js'
import { withCommandLayer, type LayerCommandDeps } from '../open-layer.js'

/** The command's output streams; injectable for tests. */
export type SendIo = CommandIo

export const SEND_USAGE = `Usage: switchyard send [--app module] [--prefix p] [--delay-ms N] <channel> <message-json>

Sends one message to a channel, as layer.send() would from code: a task for a worker, a test message.

  --app       A module whose \`layer\` export is the channel layer to send on (else the Redis layer on $REDIS_URL)
  --prefix    Redis key prefix when the layer comes from $REDIS_URL (default $SWITCHYARD_PREFIX, else asgi)
  --delay-ms  Deliver after this many milliseconds instead of now

The message is a JSON object with a \`type\`, e.g. '{"type": "email.send", "userId": 42}'.
`

interface SendRequest {
  readonly app: string | undefined
  readonly prefix: string | undefined
  readonly delayMs: number | undefined
  readonly channel: string
  readonly message: Message
}

/**
 * `switchyard send`: one message onto a channel of a shared layer, the shell's `layer.send()`. Resolves 0 once the
 * layer took it, 2 on bad arguments (malformed JSON, no `type`), 1 when the layer refused it (its coded error is
 * printed) or no shared layer was found. The layer is closed before it resolves.
 *
 * @example
 * ```sh
 * switchyard send --app tasks.ts emails '{"type": "email.send", "userId": 42, "template": "welcome"}'
 * ```
 */
export async function sendCommand(
  args: readonly string[],
  io: SendIo,
  deps: Partial<LayerCommandDeps> = {},
): Promise<number> {
  return runParsed({ name: 'send', usage: SEND_USAGE }, args, io, parseSendArgs, async (request) => {
    if (request.app === undefined && !hasRedisUrl(deps.env ?? process.env)) {
      // A new in-memory layer lives in this process only: a message sent there reaches nobody.
      io.err('switchyard send: REDIS_URL is not set and no --app names a layer; nothing else could read the message\n')
      return 1
    }
    return withCommandLayer('send', request, io, deps, 'which no other process reads', (layer) =>
      sendMessage(layer, request, io),
    )
  })
}

async function sendMessage(layer: ChannelLayer, request: SendRequest, io: SendIo): Promise<number> {
  try {
    await layer.send(
      request.channel,
      request.message,
      request.delayMs === undefined ? {} : { delayMs: request.delayMs },
    )
  } catch (error) {
    if (!isCodedError(error)) throw error
    io.err(`switchyard send: ${error.code}: ${error.message}\n`)
    return 1
  }
  const when = request.delayMs === undefined ? '' : ` (due in ${request.delayMs} ms)`
  io.out(`switchyard send: ${request.message.type} sent to ${request.channel}${when}\n`)
  return 0
}

function parseSendArgs(args: readonly string[]): SendRequest | 'help' {
  const { values, positionals } = parseCommandArgs(args, { 'delay-ms': { type: 'string' } })
  if (values.help === true) return 'help'
  const [channel, json, ...extra] = positionals
  if (channel === undefined || json === undefined) throw new UsageError('send takes a channel and a message')
  if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}; quote the message JSON`)
  return {
    app: values.app,
    prefix: values.prefix,
    delayMs: integerOption('--delay-ms', values['delay-ms'], { min: 0, expected: 'a non-negative integer' }),
    channel,
    message: parseMessage(json),
  }
}

function parseMessage(json: string): Message {
  let parsed: unknown
  try {
    parsed = JSON.parse(json)
  } catch (error) {
    throw new UsageError(`the message is not valid JSON (${error instanceof Error ? error.message : String(error)})`, {
      cause: error,
    })
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UsageError('the message must be a JSON object with a "type", e.g. \'{"type": "email.send"}\'')
  }
  if (typeof (parsed as { type?: unknown }).type !== 'string') {
    throw new UsageError('the message has no string "type"; handlers are chosen by it, e.g. "email.send"')
  }
  return parsed as Message
}

function isCodedError(error: unknown): error is Error & { code: string } {
  return error instanceof Error && typeof (error as { code?: unknown }).code === 'string'
}
