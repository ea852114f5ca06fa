// A persistence seen through a few replaced methods: every other member is the
// inner object's. A plain object with each method bound once: aedes reads a
// persistence method for every packet it handles, and a Proxy trap on each
// read showed in the profiles.

export function overlay<T extends object> (inner: T, overrides: Record<string, unknown>): T {
  const out: Record<string | symbol, unknown> = {}
  const seen = new Set<string | symbol>(['constructor'])
  for (let o: object | null = inner; o !== null && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
    for (const key of Reflect.ownKeys(o)) {
      if (seen.has(key)) continue
      seen.add(key)
      if (typeof key === 'string' && Object.hasOwn(overrides, key)) continue
      const value = (Object.getOwnPropertyDescriptor(o, key) as PropertyDescriptor).value as unknown
      if (typeof value === 'function') {
        out[key] = (value as (...args: unknown[]) => unknown).bind(inner)
      } else {
        // fields and accessors stay the inner object's
        Object.defineProperty(out, key, {
          get: () => Reflect.get(inner, key) as unknown,
          set: (v: unknown) => { Reflect.set(inner, key, v) },
          enumerable: true
        })
      }
    }
  }
  return Object.assign(out, overrides) as T
}
