import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, readdirSync, readlinkSync } from 'node:fs'
import { collect, connect, endAll } from './helpers/mqtt.js'
import { OPEN_ACCESS, startNode, waitFor, type TestNode } from './helpers/processes.js'
import { waitMembers } from './helpers/cluster.js'

const SAMPLE_EVERY_MS = 10

/** Inodes of the sockets a process holds open. */
function socketInodes (pid: number): Set<string> {
  const inodes = new Set<string>()
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))
      if (m !== null) inodes.add(m[1])
    } catch {} // closed between the listing and the read
  }
  return inodes
}

/**
 * Established TCP connections the process `pid` holds to `port` (on loopback,
 * IPv4 and IPv6), as "local -> remote". One socket may be listed twice when
 * the table changes while it is read: they are told apart by inode.
 */
function connectionsTo (pid: number, port: number): string[] {
  const mine = socketInodes(pid)
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0')
  const found = new Map<string, string>()
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/)
      if (fields.length < 10) continue
      const [, local, remote, state, , , , , , inode] = fields
      if (state === '01' && remote.endsWith(`:${hexPort}`) && mine.has(inode)) found.set(inode, `${local} -> ${remote}`)
    }
  }
  return [...found.values()]
}

/** Samples the connections from `from` to `to`'s cluster port while `work` runs: the most seen at once, and every one seen. */
async function connectionsDuring (from: TestNode, to: TestNode, work: () => Promise<void>): Promise<{ most: number, seen: string[] }> {
  const pid = from.proc.pid ?? -1
  const seen = new Set<string>()
  let most = 0
  const sample = (): void => {
    const now = connectionsTo(pid, to.adminPort)
    most = Math.max(most, now.length)
    for (const c of now) seen.add(c)
  }
  sample()
  const timer = setInterval(sample, SAMPLE_EVERY_MS)
  try {
    await work()
  } finally {
    clearInterval(timer)
  }
  sample()
  return { most, seen: [...seen] }
}

describe('connections between two members', () => {
  const nodes: TestNode[] = []
  after(async () => {
    for (const n of nodes) { await n.stop(); n.cleanup() }
  })

  it('one TCP connection each way carries the link, forwarded admin calls, routed and retained traffic', async () => {
    const a = await startNode({ conf: OPEN_ACCESS })
    nodes.push(a)
    const b = await startNode({ conf: [...OPEN_ACCESS, `discovery_node = ${a.nodename.split('@')[0]}@${a.adminAddress}`] })
    nodes.push(b)
    await waitMembers(a, { [a.nodename]: true, [b.nodename]: true }, 10_000)
    await waitMembers(b, { [a.nodename]: true, [b.nodename]: true }, 10_000)
    await waitFor(() => connectionsTo(a.proc.pid ?? -1, b.adminPort).length === 1 && connectionsTo(b.proc.pid ?? -1, a.adminPort).length === 1, 5000, 'the links to be up')

    const subA = await connect(a.mqttUrl, { clientId: 'sub-a' })
    const subB = await connect(b.mqttUrl, { clientId: 'sub-b' })
    const gotA = collect(subA)
    const gotB = collect(subB)
    await subA.subscribeAsync('channels/#', { qos: 1 })
    await subB.subscribeAsync('channels/#', { qos: 1 })
    const pubA = await connect(a.mqttUrl)
    const pubB = await connect(b.mqttUrl)

    const traffic = async (): Promise<void> => {
      for (let i = 0; i < 5; i++) {
        await pubA.publishAsync('channels/from-a', String(i), { qos: 1 })
        await pubB.publishAsync('channels/from-b', String(i), { qos: 1, retain: i === 4 })
        for (const [node, args] of [
          [a, ['session', 'show', '--format=json']],
          [b, ['session', 'show', '--format=json']],
          [a, ['metrics', 'show']],
          [b, ['api-key', 'create', 'scope=metrics']]
        ] as Array<[TestNode, string[]]>) {
          const r = await node.admin(args)
          assert.equal(r.code, 0, `${args.join(' ')} on ${node.nodename}: ${r.stderr}`)
          assert.equal(r.stderr, '', `${args.join(' ')} on ${node.nodename}: every member answered`)
        }
      }
    }
    let fromB = { most: 0, seen: [] as string[] }
    const fromA = await connectionsDuring(a, b, async () => {
      fromB = await connectionsDuring(b, a, traffic)
    })
    await waitFor(() => gotA.length === 10 && gotB.length === 10, 5000, `every publish delivered on both nodes (a ${gotA.length}, b ${gotB.length})`)
    const keys = await a.admin(['api-key', 'show', 'scope=metrics', '--format=json'])
    assert.equal((JSON.parse(keys.stdout) as { table: unknown[] }).table.length, 5, 'the keys created on b reached a')
    // (a link that breaks under load reconnects: more than one seen in turn is no failure)
    assert.equal(fromA.most, 1, `connections at once from ${a.nodename} to ${b.nodename}'s cluster port; seen: ${fromA.seen.join(', ')}`)
    assert.equal(fromB.most, 1, `connections at once from ${b.nodename} to ${a.nodename}'s cluster port; seen: ${fromB.seen.join(', ')}`)
    await endAll(subA, subB, pubA, pubB)
  })
})
