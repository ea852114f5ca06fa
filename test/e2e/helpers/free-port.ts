// A probed free port, for programs the tests run that cannot bind port 0 and
// report the port they got: redis-server (`--port 0` turns its TCP listener
// off) and mosquitto (no way to learn the port). vmq nodes never use this:
// they bind port 0 and write their ports to --ports-file (processes.ts).
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'


/**
 * A port free on 127.0.0.1 now, chosen at random BELOW the kernel's ephemeral
 * range: a port the kernel hands out (port 0) is soon taken again by some
 * client connection's local end (the fuzz and bench tests open thousands),
 * and a program started on it a moment later fails with EADDRINUSE.
 */
export async function freePort (): Promise<number> {
  const low = ephemeralLow()
  for (let i = 0; i < 50; i++) {
    const port = PORT_FLOOR + Math.floor(Math.random() * (low - PORT_FLOOR))
    if (await canListen(port)) return port
  }
  return await listenOnce(0)
}

const PORT_FLOOR = 10_000

function ephemeralLow (): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0])
    return Number.isInteger(low) && low > PORT_FLOOR + 1000 ? low : 32768
  } catch {
    return 32768
  }
}

async function canListen (port: number): Promise<boolean> {
  return await listenOnce(port).then(() => true, () => false)
}

/** Listens on `port` (0: any) on 127.0.0.1, closes again, and returns the port. */
async function listenOnce (port: number): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => {
      const address = server.address()
      const bound = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(bound))
    })
  })
}
