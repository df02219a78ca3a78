/** A counting semaphore with FIFO waiters: bounds how many handlers run (and messages are held) at once. */
export class Semaphore {
  private readonly waiters: (() => void)[] = []
  private available: number

  constructor(readonly size: number) {
    this.available = size
  }

  async acquire(): Promise<void> {
    if (this.available > 0) {
      this.available--
      return
    }
    await new Promise<void>((resolve) => this.waiters.push(resolve))
  }

  release(): void {
    const next = this.waiters.shift()
    if (next === undefined) this.available++
    else next()
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    await this.acquire()
    try {
      return await task()
    } finally {
      this.release()
    }
  }
}
