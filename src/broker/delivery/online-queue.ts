// The messages of an online session waiting beyond its inflight window, in
// order, bounded by max_online_messages; queue_type chooses what a full queue
// drops: fifo the new message, lifo the oldest one.
import { Deque } from './deque.js'

export class OnlineQueue<T> {
  readonly items = new Deque<T>()

  get length (): number { return this.items.length }

  /** Adds `item` unless the queue is full; returns what was dropped (the item itself with fifo). */
  offer (item: T, limit: number, lifo: boolean): T | undefined {
    if (limit < 0 || this.items.length < limit) {
      this.items.push(item)
      return undefined
    }
    if (!lifo || this.items.length === 0) return item
    const oldest = this.items.shift()
    this.items.push(item)
    return oldest
  }

  /** Cuts the queue down to `limit` items; returns the dropped ones. */
  trim (limit: number, lifo: boolean): T[] {
    const dropped: T[] = []
    if (limit < 0) return dropped
    while (this.items.length > limit) dropped.push((lifo ? this.items.shift() : this.items.pop()) as T)
    return dropped
  }
}
