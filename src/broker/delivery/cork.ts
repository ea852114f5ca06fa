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

/**
 * Sends what a corked socket holds at the end of the current callback instead
 * of the end of the turn: for writes that answer this connection's own
 * packets (a window refilled by its acknowledgements), which would otherwise
 * wait for every other connection read in the same turn. Once per turn: each
 * write that leaves alone may wake the reader on another core, which costs
 * more than the wait when many connections are refilled in one turn.
 */
export function flushSoon (socket: Socket): void {
  if (flushedThisTurn || (socket as Corkable)[CORKED] !== true) return
  flushedThisTurn = true
  process.nextTick(uncork, socket)
  setImmediate(newTurn)
}

let flushedThisTurn = false

function newTurn (): void {
  flushedThisTurn = false
}
