// A persistence seen through a few replaced methods: every other member is the
// inner object's. Bound methods are made once per name, not on each access:
// aedes reads a persistence method for every packet it handles.

export function overlay<T extends object> (inner: T, overrides: Record<string, unknown>): T {
  const bound = new Map<PropertyKey, { source: unknown, fn: unknown }>()
  return new Proxy(inner, {
    get (target, key, receiver) {
      if (typeof key === 'string' && Object.hasOwn(overrides, key)) return overrides[key]
      const value = Reflect.get(target, key, receiver) as unknown
      if (typeof value !== 'function') return value
      const cached = bound.get(key)
      if (cached?.source === value) return cached.fn
      const fn = (value as (...args: unknown[]) => unknown).bind(target)
      bound.set(key, { source: value, fn })
      return fn
    }
  })
}
