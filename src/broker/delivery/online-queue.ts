// The messages of an online session waiting beyond its inflight window, in
// order, bounded by a count (max_online_messages) and by bytes (what
// outgoing_buffer_limit leaves once the connection's pending writes are
// counted); queue_type chooses what a full queue drops: fifo the new message,
// lifo the oldest ones.
import { Deque } from './deque.js'

/** What the queue may hold: `count` items (-1 = any number) of `bytes` in all (Infinity = any size). */
export interface QueueLimits { count: number, bytes: number }

export class OnlineQueue<T> {
  private readonly items = new Deque<T>()
  private size = 0

  constructor (private readonly sizeOf: (item: T) => number) {}

  get length (): number { return this.items.length }

  /** The sum of the items' sizes. */
  get bytes (): number { return this.size }

  /** True when one more item of `size` stays within `limits`. */
  fits (size: number, limits: QueueLimits): boolean {
    return (limits.count < 0 || this.items.length < limits.count) && this.size + size <= limits.bytes
  }

  /**
   * Adds `item` unless it does not fit; returns what was dropped: with fifo the
   * item itself, with lifo the oldest items that make room for it (or the item
   * itself when it cannot fit even alone).
   */
  offer (item: T, limits: QueueLimits, lifo: boolean): T[] {
    const size = this.sizeOf(item)
    if (this.fits(size, limits)) {
      this.push(item)
      return []
    }
    if (!lifo || limits.count === 0 || size > limits.bytes) return [item]
    const dropped: T[] = []
    while (this.items.length > 0 && !this.fits(size, limits)) dropped.push(this.shift() as T)
    this.push(item)
    return dropped
  }

  /** Cuts the queue down to `limits`; returns the dropped items (lifo: the oldest, fifo: the newest). */
  trim (limits: QueueLimits, lifo: boolean): T[] {
    const dropped: T[] = []
    const over = (): boolean => (limits.count >= 0 && this.items.length > limits.count) || this.size > limits.bytes
    while (this.items.length > 0 && over()) dropped.push((lifo ? this.shift() : this.pop()) as T)
    return dropped
  }

  /** Adds `item` behind the others, whatever the limits (see trim). */
  push (item: T): void {
    this.items.push(item)
    this.size += this.sizeOf(item)
  }

  peek (): T | undefined {
    return this.items.peek()
  }

  shift (): T | undefined {
    const item = this.items.shift()
    if (item !== undefined) this.size -= this.sizeOf(item)
    return item
  }

  /** Removes and returns everything, oldest first. */
  drain (): T[] {
    this.size = 0
    return this.items.drain()
  }

  * [Symbol.iterator] (): Iterator<T> {
    yield * this.items
  }

  private pop (): T | undefined {
    const item = this.items.pop()
    if (item !== undefined) this.size -= this.sizeOf(item)
    return item
  }
}
