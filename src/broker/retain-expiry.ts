// expire_retain_cache (VerneMQ's): every that many seconds, the retained
// messages whose MQTT 5 Message Expiry Interval has passed are deleted from
// the store. They are never delivered once expired (MQTT-3.3.2-5); this frees
// their memory and disk space.
import { isExpired, type MessageExtras } from '../cluster/properties.js'
import type { Stored } from './store/codec.js'

interface Sweepable { expireRetained: (expired: (message: Stored) => boolean) => Promise<number> }

export interface RetainExpiryOptions {
  /** seconds between sweeps; 0 = none */
  intervalS: number
  stores: () => Promise<Sweepable[]>
  log: (deleted: number) => void
  onError: (err: Error) => void
}

/** Starts the sweeps; returns the function that stops them. */
export function startRetainExpiry (o: RetainExpiryOptions): () => void {
  if (o.intervalS <= 0) return () => {}
  let running = false
  const sweep = async (): Promise<void> => {
    const now = Date.now()
    let deleted = 0
    for (const store of await o.stores()) deleted += await store.expireRetained(message => isExpired(message as MessageExtras, now))
    if (deleted > 0) o.log(deleted)
  }
  const timer = setInterval(() => {
    if (running) return
    running = true
    sweep().catch(o.onError).finally(() => { running = false })
  }, o.intervalS * 1000)
  timer.unref()
  return () => { clearInterval(timer) }
}
