// Corking a socket per event-loop turn, so that many writes to one
// connection in a turn leave as one writev.
import type { Socket } from 'node:net'

/**
 * Many deliveries to one client in one event-loop turn (aedes writes each
 * message in its own setImmediate callback) would each become a system call
 * and, with TCP_NODELAY, a TCP segment. Corking the socket at the first write
 * of a turn and uncorking it when the turn's immediates are done sends them as
 * one writev. A lone message waits at most until the end of the current turn.
 * Installed on the socket as it is accepted, before aedes writes to it.
 */
export function corkPerTurn (socket: Socket): void {
  const write = socket.write
  // a write of the socket's own (already wrapped) gets a wrapper of its own, not kept here
  if (Object.prototype.hasOwnProperty.call(socket, 'write')) {
    socket.write = corkingOf(write)
    return
  }
  let shared = corking.get(write)
  if (shared === undefined) {
    shared = corkingOf(write)
    corking.set(write, shared)
  }
  socket.write = shared
}

type Write = Socket['write']

/** set on a socket corked in this turn, until its uncork runs (a flag on the socket: no set that grows and shrinks every turn) */
const CORKED = Symbol('corked in this turn')
type Corkable = Socket & { [CORKED]?: boolean }
/** the corking write of each original write (the prototype's, in practice): shared by every socket */
const corking = new Map<Write, Write>()

function corkingOf (write: Write): Write {
  const call = write as (this: Socket, chunk: unknown, encoding: unknown, cb: unknown) => boolean
  // named parameters, not ...args: no array per write (Writable.write takes undefined for an absent encoding or callback)
  return function (this: Corkable, chunk: unknown, encoding?: unknown, cb?: unknown): boolean {
    if (this[CORKED] !== true) {
      this[CORKED] = true
      this.cork()
      setImmediate(uncork, this)
    }
    return call.call(this, chunk, encoding, cb)
  } as Write
}

function uncork (socket: Corkable): void {
  socket[CORKED] = false
  socket.uncork()
}
