// mqtt_connect_timeout: a connection that has not sent CONNECT after that many
// milliseconds is closed. Kept here rather than in aedes (its connectTimeout is
// fixed when the broker is created) so `vmq-admin set` applies to new connections.
import type { Duplex } from 'node:stream'

/**
 * Arms the timer for a new connection; the returned function disarms it
 * (CONNECT arrived) and lets go of the timer and its listener, which an idle
 * connection would otherwise keep for its whole life.
 */
export function armConnectTimeout (stream: Duplex, ms: number, onTimeout: () => void): () => void {
  const timer = setTimeout(() => {
    if (stream.destroyed) return
    onTimeout()
    stream.destroy()
  }, ms)
  timer.unref()
  const closed = (): void => { clearTimeout(timer) }
  // 'close' comes once: `on` spares the wrapper `once` makes
  stream.on('close', closed)
  return () => {
    clearTimeout(timer)
    stream.removeListener('close', closed)
  }
}
