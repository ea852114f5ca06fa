/**
 * A hybrid logical clock: wall-clock milliseconds that never go backwards and
 * move past every timestamp seen from a peer, so "latest write wins" agrees on
 * every node even with skewed clocks.
 */
export class HybridClock {
  private last = 0

  now (): number {
    this.last = Math.max(Date.now(), this.last + 1)
    return this.last
  }

  observe (timestamp: number): void {
    if (timestamp > this.last) this.last = timestamp
  }
}
