import { getHeader, HttpConsumer } from 'switchyard-channels'
import { methodOf, respondJson } from './json-io.js'

/** One call the receiver got. */
export interface ReceivedCall {
  readonly deliveryId: string
  readonly attempt: string
  /** The status the receiver answered with. */
  readonly answered: number
  readonly bytes: number
  readonly at: number
}

/** What the receiver remembers: which deliveries it has failed once, and its last calls. */
export class ReceiverLog {
  private readonly failedOnce = new Set<string>()
  private readonly calls: ReceivedCall[] = []

  constructor(private readonly capacity = 100) {}

  /** True the first time a delivery id is seen (bounded: the oldest ids are forgotten). */
  firstCall(deliveryId: string): boolean {
    if (this.failedOnce.has(deliveryId)) return false
    this.failedOnce.add(deliveryId)
    if (this.failedOnce.size > 10 * this.capacity) {
      const oldest = this.failedOnce.values().next()
      if (oldest.done !== true) this.failedOnce.delete(oldest.value)
    }
    return true
  }

  record(call: ReceivedCall): void {
    this.calls.unshift(call)
    if (this.calls.length > this.capacity) this.calls.length = this.capacity
  }

  list(): readonly ReceivedCall[] {
    return this.calls
  }
}

/**
 * `/webhook-receiver/`: a flaky receiver to point the demo at. A POST fails with 500 the first time it sees a
 * delivery (by its `x-switchyard-delivery` header) and accepts the retry with 200; `?status=404` (any 200-599)
 * answers that status every time, to watch a delivery dead-letter at once (4xx) or after its retries (5xx). `GET`
 * lists the calls received, newest first.
 *
 * It lives on this same server, a loopback address, so the SSRF guard refuses it unless the app runs with
 * `ALLOW_PRIVATE_WEBHOOKS=1`.
 */
export class WebhookReceiver extends HttpConsumer {
  calls!: ReceiverLog

  override async handle(body: Uint8Array): Promise<void> {
    const method = methodOf(this.scope)
    if (method === 'GET') {
      await respondJson(this, 200, { calls: this.calls.list() })
      return
    }
    if (method !== 'POST' || this.scope.type !== 'http') {
      await respondJson(this, 405, { error: 'POST a webhook, or GET the calls received' })
      return
    }
    const deliveryId = getHeader(this.scope, 'x-switchyard-delivery') ?? 'anonymous'
    const forced = Number(new URLSearchParams(this.scope.queryString).get('status'))
    const status = Number.isInteger(forced) && forced >= 200 && forced <= 599 ? forced : undefined
    const answered = status ?? (this.calls.firstCall(deliveryId) ? 500 : 200)
    this.calls.record({
      deliveryId,
      attempt: getHeader(this.scope, 'x-switchyard-attempt') ?? '',
      answered,
      bytes: body.byteLength,
      at: Date.now(),
    })
    const note = status !== undefined ? 'as asked by ?status=' : answered === 500 ? 'failing the first call' : 'ok'
    await respondJson(this, answered, { received: answered < 300, note })
  }
}
