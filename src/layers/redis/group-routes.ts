/** Groups whose routes a layer remembers, at most (besides groups with sends in flight). */
export const GROUP_ROUTES_CAPACITY = 10_000

/** What `begin` gives a send, for `finish`. */
export interface RouteTicket {
  /** Queues the send copies its message to at once, beside the plan. */
  readonly early: readonly string[]
}

interface Ticket extends RouteTicket {
  readonly route: Route
}

/** One group's route: what its plans named, and its sends in flight. */
interface Route {
  early: readonly string[]
  /** Queues the latest plan added, used early once no send issued before them is in flight. */
  pending: readonly string[]
  inFlight: number
}

/**
 * The live Switchyard process queues each group's plans named, by group: with several shards (`hosts` or a cluster)
 * a send to the group copies its message to them at once, beside the script that plans it on the group's shard,
 * instead of after it (one round trip instead of two). The plan stays the truth: a queue it names that the route
 * lacked gets its copy when the plan comes back, and a copy to a queue it no longer names reaches no one (a process
 * fans a group copy out to its own members of the group only; a dead process's queue expires).
 *
 * Order: a send that copies to a queue late (after its plan) must not be overtaken by a later send's early copy to
 * that queue. So a queue a plan adds is used early only by a send issued when none of this process's sends to the
 * group is in flight: every late copy to it has been issued by then, and plans come back in the order they were
 * sent (one connection per shard). Bounded: least recently planned group first out, never one with a send in flight.
 */
export class GroupRoutes {
  private readonly routes = new Map<string, Route>()

  constructor(private readonly capacity = GROUP_ROUTES_CAPACITY) {}

  get size(): number {
    return this.routes.size
  }

  /** A send to `group` starts: the queues it copies to now. Pass the ticket to `finish`. */
  begin(group: string): RouteTicket {
    let route = this.routes.get(group)
    if (route === undefined) {
      route = { early: [], pending: [], inFlight: 0 }
      this.routes.set(group, route)
      this.evict()
    }
    if (route.inFlight === 0) promote(route)
    route.inFlight++
    const ticket: Ticket = { early: route.early, route }
    return ticket
  }

  /**
   * The send's plan came back naming `planned` (undefined: it failed). Call it, then issue the late copies, in one
   * synchronous step: a send begun after this may use what the plan added.
   */
  finish(group: string, ticket: RouteTicket, planned: readonly string[] | undefined): void {
    const { route } = ticket as Ticket
    route.inFlight--
    if (planned !== undefined) {
      const kept = route.early.filter((queue) => planned.includes(queue))
      route.pending = planned.filter((queue) => !kept.includes(queue))
      route.early = kept
    }
    if (route.inFlight === 0) promote(route)
    // Most recently planned last: the Map's first key is the one to forget.
    if (this.routes.get(group) === route) {
      this.routes.delete(group)
      this.routes.set(group, route)
    }
  }

  private evict(): void {
    for (const [group, route] of this.routes) {
      if (this.routes.size <= this.capacity) return
      // A route with a send in flight stays: a new one in its place would not know what that send will copy late.
      if (route.inFlight === 0) this.routes.delete(group)
    }
  }
}

function promote(route: Route): void {
  if (route.pending.length === 0) return
  route.early = [...route.early, ...route.pending]
  route.pending = []
}
