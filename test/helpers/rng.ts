// A small seeded random generator (mulberry32), so a seed names a run: the
// broken-file generator and the fuzzer give the same input for the same seed.

export type Rng = () => number

export function rng (seed: number): Rng {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** An integer from 0 to n - 1. */
export function int (r: Rng, n: number): number {
  return Math.floor(r() * n)
}

export function pick<T> (r: Rng, items: readonly T[]): T {
  return items[int(r, items.length)]
}
