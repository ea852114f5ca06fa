// Ending a connection the node closes with a reason (a v5 CONNACK or
// DISCONNECT): the reason and FIN go out, and nothing written afterwards does.
//
// aedes may still write to the connection once it is ended: answers to packets
// that came before the refused one (their handling ends a few turns later: a
// SUBACK once the subscription is stored, a PUBCOMP), a takeover's DISCONNECT.
// A write after end() makes the stream fail, and it is destroyed at once,
// before its FIN; with the client's bytes still unread on the node (it reads
// nothing more from a refused client) the close is then a reset, and a client
// that has not read the reason yet loses it. MQTT-3.14.4-1: nothing may follow
// a DISCONNECT anyway.

/** Ends `conn` after `last` (if any); later writes are dropped, their callbacks called. */
export function endConnection (conn: NodeJS.WritableStream, last?: Uint8Array): void {
  if (last === undefined) conn.end()
  else conn.end(last)
  ;(conn as unknown as { write: typeof dropWrite }).write = dropWrite
}

function dropWrite (...args: unknown[]): boolean {
  const callback = args[args.length - 1]
  if (typeof callback === 'function') process.nextTick(callback as () => void)
  return true
}
