import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { connect, endAll } from './helpers/mqtt.js'
import { OPEN_ACCESS, startNode, waitFor, type TestNode } from './helpers/processes.js'
import { waitMembers } from './helpers/cluster.js'

const DROP_LINE = 'routed publishes dropped: the member was unreachable, too slow, or removed before confirming them'

/** The drop lines of `node`'s log about `member`: when, and how many each says. */
function dropLines (node: TestNode, member: string): Array<{ at: number, dropped: number }> {
  return node.stdout.split('\n').filter(l => l.includes(DROP_LINE) && l.includes(`member=${member} `)).map(l => {
    const dropped = /dropped=(\d+)/.exec(l)
    return { at: Date.parse(l.split(' ')[0]), dropped: Number(dropped?.[1] ?? -1) }
  })
}

describe('routed publishes a link drops', () => {
  const nodes: TestNode[] = []
  after(async () => {
    for (const n of nodes) {
      n.proc.kill('SIGCONT')
      await n.kill()
      n.cleanup()
    }
  })

  it('are counted and logged at most once per member every 10 s, with the count since the previous line', async () => {
    const a = await startNode({ conf: OPEN_ACCESS })
    nodes.push(a)
    const b = await startNode({ conf: [...OPEN_ACCESS, `discovery_node = ${a.adminAddress}`] })
    nodes.push(b)
    await waitMembers(a, { [a.nodename]: true, [b.nodename]: true }, 10_000)
    const sub = await connect(b.mqttUrl, { clientId: 'far-subscriber' })
    await sub.subscribeAsync('drops/t', { qos: 1 })
    // one publish per publisher: aedes reads a client's next packets once the
    // routing of the previous ones is confirmed, which b will not do
    const pubs = await Promise.all([1, 2, 3, 4].map(async () => await connect(a.mqttUrl)))
    // b stops answering; until a's keepalive notices, its link is up and
    // the publishes go out, unconfirmed: they wait to be sent again
    b.proc.kill('SIGSTOP')
    pubs[0].publish('drops/t', 'first', { qos: 1 })
    await new Promise(resolve => setTimeout(resolve, 200))
    for (const pub of pubs.slice(1)) pub.publish('drops/t', 'later', { qos: 1 })
    await waitMembers(a, { [a.nodename]: true, [b.nodename]: false }, 15_000)
    // removing b gives its unconfirmed publishes up, batch after batch: the
    // first batch's drop is logged at once, the later ones 10 s later together
    const left = await a.admin(['cluster', 'leave', `node=${b.nodename}`])
    assert.equal(left.code, 0, left.stderr)
    assert.equal(left.stdout.trim(), 'Done')
    await waitFor(() => dropLines(a, b.nodename).length === 1, 5000, 'the first drop line')
    assert.equal(dropLines(a, b.nodename)[0].dropped, 1)
    await waitFor(() => dropLines(a, b.nodename).length === 2, 15_000, 'the line with the drops held back')
    const [first, second] = dropLines(a, b.nodename)
    assert.equal(second.dropped, 3)
    assert.ok(second.at - first.at >= 9_900, `${second.at - first.at} ms between the lines`)
    const metrics = await a.admin(['metrics', 'show'])
    assert.ok(metrics.stdout.split('\n').includes('counter.cluster_routed_dropped = 4'), metrics.stdout)
    await endAll(sub, ...pubs)
  })
})
