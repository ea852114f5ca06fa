// A flood of connections beyond max_connections is refused at accept: each
// extra socket is closed before any byte is read, the node stays small, and
// the clients already connected keep working.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { connect as netConnect } from 'node:net'
import { collect, connect, endAll } from './helpers/mqtt.js'
import { OPEN_ACCESS, startNode, waitFor, type TestNode } from './helpers/processes.js'

const FLOOD = 2000
const AT_ONCE = 200

function rssKb (pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find(l => l.startsWith('VmRSS:')) ?? ''
  return Number(/(\d+)/.exec(line)?.[1] ?? 0)
}

/** Opens a socket that sends a CONNECT's first bytes; resolves with whether the node closed it. */
async function knock (port: number): Promise<boolean> {
  return await new Promise(resolve => {
    const socket = netConnect(port, '127.0.0.1')
    const timer = setTimeout(() => { socket.destroy(); resolve(false) }, 10_000)
    socket.on('connect', () => { socket.write(Buffer.from([0x10, 0x0c, 0x00, 0x04])) })
    socket.on('error', () => {})
    socket.on('close', () => { clearTimeout(timer); resolve(true) })
  })
}

describe('a connection flood beyond max_connections = 10', () => {
  let node: TestNode
  before(async () => { node = await startNode({ conf: [...OPEN_ACCESS, 'listener.tcp.default.max_connections = 10'] }) })
  after(async () => { await node.stop(); node.cleanup() })

  it(`closes all ${FLOOD} extra sockets, keeps its memory, and the 10 connected clients keep their round trips`, async () => {
    const clients = await Promise.all(Array.from({ length: 10 }, async (_, i) => await connect(node.mqttUrl, { clientId: `held-${i}` })))
    const got = collect(clients[0])
    await clients[0].subscribeAsync('flood/t', { qos: 1 })
    const before = rssKb(node.proc.pid as number)
    let closed = 0
    for (let sent = 0; sent < FLOOD; sent += AT_ONCE) {
      const results = await Promise.all(Array.from({ length: AT_ONCE }, async () => await knock(node.mqttPort)))
      closed += results.filter(Boolean).length
    }
    assert.equal(closed, FLOOD, 'every extra socket closed by the node')
    const grown = rssKb(node.proc.pid as number) - before
    assert.ok(grown < 30_000, `RSS grew by ${grown} KB`)
    await clients[1].publishAsync('flood/t', 'still here', { qos: 1 })
    await waitFor(() => got.length === 1, 5000, 'the round trip after the flood')
    assert.equal(got[0].payload, 'still here')
    assert.ok(clients.every(c => c.connected), 'the 10 clients are still connected')
    assert.equal(node.exitCode, undefined)
    await endAll(...clients)
  })
})
