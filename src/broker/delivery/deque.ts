// A double-ended queue on a growable ring buffer: O(1) push, shift and pop,
// no per-element allocation beyond the slot.
/** slots of the first buffer; none until the first push (most connections never queue) */
const FIRST_SIZE = 16

export class Deque<T> {
  private items: Array<T | undefined> = []
  private head = 0
  private count = 0

  get length (): number { return this.count }

  push (item: T): void {
    if (this.count === this.items.length) this.grow()
    this.items[(this.head + this.count) % this.items.length] = item
    this.count++
  }

  /** Adds in front: the item becomes the next one shifted. */
  unshift (item: T): void {
    if (this.count === this.items.length) this.grow()
    this.head = (this.head - 1 + this.items.length) % this.items.length
    this.items[this.head] = item
    this.count++
  }

  peek (): T | undefined {
    return this.count === 0 ? undefined : this.items[this.head]
  }

  shift (): T | undefined {
    if (this.count === 0) return undefined
    const item = this.items[this.head]
    this.items[this.head] = undefined
    this.head = (this.head + 1) % this.items.length
    this.count--
    return item
  }

  pop (): T | undefined {
    if (this.count === 0) return undefined
    const index = (this.head + this.count - 1) % this.items.length
    const item = this.items[index]
    this.items[index] = undefined
    this.count--
    return item
  }

  /** Removes and returns everything, oldest first. */
  drain (): T[] {
    const all: T[] = []
    for (let item = this.shift(); item !== undefined; item = this.shift()) all.push(item)
    return all
  }

  * [Symbol.iterator] (): Iterator<T> {
    for (let i = 0; i < this.count; i++) yield this.items[(this.head + i) % this.items.length] as T
  }

  private grow (): void {
    const bigger: Array<T | undefined> = new Array(Math.max(FIRST_SIZE, this.items.length * 2))
    for (let i = 0; i < this.count; i++) bigger[i] = this.items[(this.head + i) % this.items.length]
    this.items = bigger
    this.head = 0
  }
}
