// Many deliveries to one client in one event-loop turn (aedes writes each
// message in its own setImmediate callback) would each become a system call
// and, with TCP_NODELAY, a TCP segment. Corking the socket at the first write
// of a turn and uncorking it when the turn's immediates are done sends them as
// one writev. A lone message waits at most until the end of the current turn.
import type { Socket } from 'node:net'

export function batchWrites (socket: Socket): void {
  const write = socket.write
  let corked = false
  const uncork = (): void => {
    corked = false
    socket.uncork()
  }
  socket.write = function (this: Socket, ...args: Parameters<Socket['write']>): boolean {
    if (!corked) {
      corked = true
      this.cork()
      setImmediate(uncork)
    }
    return write.apply(this, args)
  } as Socket['write']
}
