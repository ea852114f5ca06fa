// The live settings of a running node. `vmq-admin set` changes them; code that
// reads a setting at the moment it needs it (e.g. at CONNECT) sees the change at once.
import { EventEmitter } from 'node:events'
import { InvalidRequest } from '../errors.js'
import { findKey, findPatternKey, type KeyDef, type SettingKey } from './schema.js'
import { formatValue, parseValue, type Value } from './values.js'

export class SettingError extends InvalidRequest {
  constructor (message: string) {
    super(message)
    this.name = 'SettingError'
  }
}

export class Settings extends EventEmitter {
  constructor (private readonly values: Map<string, Value>) {
    super()
  }

  get (key: SettingKey): Value {
    return this.value(key)
  }

  /** A key named at run time (`plugins.<name>`, an operator's `show`). */
  value (key: string): Value {
    if (!this.values.has(key)) throw new Error(`no such setting: ${key}`)
    return this.values.get(key) as Value
  }

  flag (key: SettingKey): boolean { return this.get(key) === true }
  number (key: SettingKey): number { return this.get(key) as number }
  string (key: SettingKey): string { return this.get(key) as string }

  /**
   * Calls `apply(key)` after `set` changed one of `keys` (or any key starting
   * with `keys.prefix`); returns the function that stops watching.
   */
  watch (keys: readonly SettingKey[] | { prefix: string }, apply: (key: SettingKey) => void): () => void {
    const wanted = Array.isArray(keys) ? (key: string) => keys.includes(key as SettingKey) : (key: string) => key.startsWith((keys as { prefix: string }).prefix)
    const listener = (key: string): void => { if (wanted(key)) apply(key as SettingKey) }
    this.on('change', listener)
    return () => { this.off('change', listener) }
  }

  /** The value as written in vernemq.conf (on/off, 1d, ...). */
  show (key: string): string {
    const def = this.definition(key)
    return formatValue(def.type, this.values.get(def.key) as Value)
  }

  /** Validates every change first; applies all of them or none. Emits `change` per key. */
  set (changes: Record<string, string>): void {
    // VerneMQ keys with a free part (plugins.<name>.path, ...) are accepted in files and have no effect
    const patterned = Object.keys(changes).filter(k => findKey(k) === undefined && findPatternKey(k) !== undefined)
    if (patterned.length > 0) throw new SettingError(`${patterned.join(', ')}: no effect in vmq-ts yet; not changed`)
    const unknown = Object.keys(changes).filter(k => findKey(k) === undefined)
    if (unknown.length > 0) throw new SettingError(`Invalid config keys: ${unknown.join(', ')}`)
    const fixed = Object.keys(changes).filter(k => findKey(k)?.settable !== true)
    if (fixed.length > 0) {
      throw new SettingError(`The following config keys are not settable: [${fixed.map(k => JSON.stringify(k)).join(',')}]`)
    }
    const inert = Object.keys(changes).filter(k => findKey(k)?.applied === false)
    if (inert.length > 0) {
      throw new SettingError(`${inert.join(', ')}: no effect in vmq-ts yet; not changed`)
    }
    const parsed: Array<[KeyDef, Value]> = []
    for (const [key, raw] of Object.entries(changes)) {
      const def = this.definition(key)
      const result = parseValue(def.type, raw)
      if (!result.ok) throw new SettingError(`Invalid value "${raw}" for ${key}: expected ${result.expected}`)
      parsed.push([def, result.value])
    }
    for (const [def, value] of parsed) {
      this.values.set(def.key, value)
      this.emit('change', def.key, value)
    }
  }

  private pending = new Set<Promise<unknown>>()

  /** Work a change started (a plugin reloading its file); `settled` waits for it. */
  track (work: Promise<unknown>): void {
    this.pending.add(work)
    void work.finally(() => this.pending.delete(work))
  }

  /** Resolves when the work started by the changes so far is done (so `set` returns after a reload). */
  async settled (): Promise<void> {
    await Promise.allSettled([...this.pending])
  }

  definition (key: string): KeyDef {
    const def = findKey(key)
    if (def === undefined) throw new SettingError(`Invalid config keys: ${key}`)
    return def
  }
}
