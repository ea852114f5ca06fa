// Many deliveries to one client in one event-loop turn (aedes writes each
// message in its own setImmediate callback) would each become a system call
// and, with TCP_NODELAY, a TCP segment. Corking the socket at the first write
// of a turn and uncorking it when the turn's immediates are done sends them as
// one writev. A lone message waits at most until the end of the current turn.
import type { Socket } from 'node:net'

type Write = Socket['write']

/** the sockets corked in this turn, until their uncork runs */
const corked = new Set<Socket>()
/** the batching write of each original write (the prototype's, in practice): shared by every socket */
const batching = new Map<Write, Write>()

export function batchWrites (socket: Socket): void {
  const write = socket.write
  // a write of the socket's own (already wrapped) gets a wrapper of its own, not kept here
  if (Object.prototype.hasOwnProperty.call(socket, 'write')) {
    socket.write = batchingOf(write)
    return
  }
  let batched = batching.get(write)
  if (batched === undefined) {
    batched = batchingOf(write)
    batching.set(write, batched)
  }
  socket.write = batched
}

function batchingOf (write: Write): Write {
  return function (this: Socket, ...args: Parameters<Write>): boolean {
    if (!corked.has(this)) {
      corked.add(this)
      this.cork()
      setImmediate(uncork, this)
    }
    return write.apply(this, args)
  } as Write
}

function uncork (socket: Socket): void {
  corked.delete(socket)
  socket.uncork()
}
