// mqtt_connect_timeout: a connection that has not sent CONNECT after that many
// milliseconds is closed. Kept here rather than in aedes (its connectTimeout is
// fixed when the broker is created) so `vmq-admin set` applies to new connections.
import type { Duplex } from 'node:stream'

/** Arms the timer for a new connection; the returned function disarms it (CONNECT arrived). */
export function armConnectTimeout (stream: Duplex, ms: number, onTimeout: () => void): () => void {
  const timer = setTimeout(() => {
    if (stream.destroyed) return
    onTimeout()
    stream.destroy()
  }, ms)
  timer.unref()
  stream.once('close', () => { clearTimeout(timer) })
  return () => { clearTimeout(timer) }
}
