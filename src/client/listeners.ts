/** A listener; what it returns is ignored, except that a rejected promise is reported like a throw. */
export type Listener<E> = (event: E) => unknown

const reported = new WeakSet<object>()

/**
 * Calls `listener` so that nothing it does can break the connection: a throw or a rejected promise is caught and
 * reported with `console.error`, once per listener so a handler failing on every message does not flood the
 * console.
 */
export function callSafely<E>(listener: Listener<E>, event: E): void {
  const report = (error: unknown): void => {
    if (reported.has(listener)) return
    reported.add(listener)
    console.error('switchyard/client: a handler threw (reported once)', error)
  }
  try {
    const result = listener(event)
    if (result instanceof Promise) result.catch(report)
  } catch (error) {
    report(error)
  }
}

/** A set of listeners for one event; `add` returns the function that removes it again. */
export class Listeners<E> {
  readonly #set = new Set<Listener<E>>()

  add(listener: Listener<E>): () => void {
    this.#set.add(listener)
    return () => {
      this.#set.delete(listener)
    }
  }

  /** Runs the listeners registered when the event happened, in registration order. */
  emit(event: E): void {
    for (const listener of [...this.#set]) callSafely(listener, event)
  }
}
