/** A delivery as the web process registered it; its state lives in the task store. */
export interface RegisteredDelivery {
  readonly deliveryId: string
  /** Shown without credentials. */
  readonly url: string
  readonly createdAt: number
}

/**
 * The deliveries this web process queued, newest first, at most `capacity` (older ones are forgotten; their task
 * states stay in the store). The list is per process: with several web processes on Redis each lists its own,
 * while states, retries and dead letters are shared. A real service keeps deliveries in its database.
 */
export class DeliveryRegistry {
  private readonly entries: RegisteredDelivery[] = []

  constructor(private readonly capacity = 50) {}

  add(delivery: RegisteredDelivery): void {
    this.entries.unshift(delivery)
    if (this.entries.length > this.capacity) this.entries.length = this.capacity
  }

  list(): readonly RegisteredDelivery[] {
    return this.entries
  }
}
