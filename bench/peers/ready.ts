// A broker is ready when its port accepts connections and it answers CONNECT with CONNACK 0
// (a cluster node may answer 3, server unavailable, until it has joined).
import { connect } from 'node:net'
import type { ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { Framer } from '../load/framer.js'
import { connectPacket, disconnectPacket } from '../load/packets.js'
import type { Target } from '../load/protocol.js'

const RETRY_MS = 100

/** Waits until `target` accepts an MQTT session, at most `timeoutMs`; fails at once on a refusal other than "server unavailable" or when `child` exits. */
export async function waitUntilReady (target: Target, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last = 'no answer'
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`it exited (${child.signalCode ?? `code ${String(child.exitCode)}`})`)
    const code = await tryConnect(target, Math.max(100, Math.min(2000, deadline - Date.now())))
    if (code === 0) return
    if (typeof code === 'number' && code !== 3) throw new Error(`127.0.0.1:${target.port} refused the bench client with CONNACK return code ${code}`)
    last = typeof code === 'number' ? 'CONNACK 3 (server unavailable)' : code
    await new Promise(resolve => setTimeout(resolve, RETRY_MS))
  }
  throw new Error(`127.0.0.1:${target.port} did not accept an MQTT session within ${timeoutMs} ms (last: ${last})`)
}

/** The CONNACK return code, or why there was none. */
async function tryConnect (target: Target, timeoutMs: number): Promise<number | string> {
  return await new Promise(resolve => {
    const socket = connect({ host: target.host, port: target.port })
    const finish = (result: number | string): void => {
      clearTimeout(timer)
      if (result === 0) socket.end(disconnectPacket())
      else socket.destroy()
      resolve(result)
    }
    const timer = setTimeout(() => finish(`no CONNACK within ${timeoutMs} ms`), timeoutMs)
    const framer = new Framer({ connack: finish, suback: () => {}, publish: () => {}, puback: () => {} })
    socket.on('connect', () => socket.write(connectPacket(`ready${randomBytes(4).toString('hex')}`, true, 10, target.credentials)))
    socket.on('data', chunk => framer.push(chunk))
    socket.on('error', err => finish((err as NodeJS.ErrnoException).code ?? err.message))
    socket.on('close', () => finish('connection closed'))
  })
}
