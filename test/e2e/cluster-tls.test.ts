import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { makeCert, makePki, type Pki } from './helpers/certs.js'
import { collect, connect, endAll } from './helpers/mqtt.js'
import { OPEN_ACCESS, startNode, tempDir, vmq, waitFor, type RunResult, type TestNode } from './helpers/processes.js'

interface KeyPair { cert: string, key: string }

/** vmqs lines for a member: its certificate, the cluster CA, mutual TLS; `scope` shows both per-listener and per-type keys work. */
function vmqsConf (pki: Pki, member: KeyPair, scope: string): string[] {
  return [
    `${scope}.cafile = ${pki.ca}`,
    `${scope}.certfile = ${member.cert}`,
    `${scope}.keyfile = ${member.key}`,
    `${scope}.require_certificate = on`
  ]
}

function cliTls (pki: Pki): string[] {
  return ['--tls-cafile', pki.ca, '--tls-certfile', pki.client.cert, '--tls-keyfile', pki.client.key]
}

async function members (node: TestNode, tls: string[]): Promise<Record<string, boolean>> {
  const r = await node.admin(['cluster', 'show', '--format=json', ...tls])
  if (r.code !== 0) throw new Error(r.stderr)
  return Object.fromEntries((JSON.parse(r.stdout).table as Array<{ Node: string, Running: boolean }>).map(row => [row.Node, row.Running]))
}

function oneLine (r: RunResult): string {
  const lines = r.stderr.split('\n').filter(l => l.trim() !== '')
  assert.equal(lines.length, 1, `one line on stderr, got: ${r.stderr}`)
  return lines[0]
}

describe('a cluster over vmqs listeners with mutual TLS', () => {
  let dir: string
  let pki: Pki
  let intruder: KeyPair
  const nodes: TestNode[] = []
  let a: TestNode
  let b: TestNode

  before(async () => {
    dir = tempDir('vmq-pki-')
    pki = makePki(dir)
    const memberA = makeCert(dir, 'member-a', 'node-a', 'member', { cert: pki.ca, key: pki.caKey })
    const memberB = makeCert(dir, 'member-b', 'node-b', 'member', { cert: pki.ca, key: pki.caKey })
    intruder = makeCert(dir, 'intruder', 'intruder', 'member', { cert: pki.otherCa, key: join(dir, 'other-ca.key') })
    a = await startNode({ clusterType: 'vmqs', conf: [...OPEN_ACCESS, ...vmqsConf(pki, memberA, 'listener.vmqs.clustering'), 'listener.vmqs.tls_version = tlsv1.3'] })
    nodes.push(a)
    b = await startNode({ clusterType: 'vmqs', conf: [...OPEN_ACCESS, ...vmqsConf(pki, memberB, 'listener.vmqs'), `discovery_node = ${a.adminAddress}`] })
    nodes.push(b)
    const both = JSON.stringify([[a.nodename, true], [b.nodename, true]].sort())
    for (const n of [a, b]) {
      let last = ''
      await waitFor(async () => (last = JSON.stringify(Object.entries(await members(n, cliTls(pki))).sort())) === both,
        10000, `both members running on ${n.nodename} (last ${last})`)
    }
  })

  after(async () => {
    for (const n of nodes) { await n.stop(); n.cleanup() }
    rmSync(dir, { recursive: true, force: true })
  })

  it('the nodes announce their vmqs listener and warn about TLS options it does not use', () => {
    assert.match(a.stdout, new RegExp(`listener vmqs vmqs.clustering on 127.0.0.1:${a.adminPort}`))
    assert.match(a.stdout + a.stderr, /listener\.vmqs\.clustering: tls_version has no effect on a vmqs listener \(gRPC's TLS defaults apply\)/)
    assert.doesNotMatch(b.stdout + b.stderr, /has no effect on a vmqs listener/)
  })

  it('routes a message from a client on A to a subscriber on B', async () => {
    const sub = await connect(b.mqttUrl)
    const got = collect(sub)
    await sub.subscribeAsync('tls/route', { qos: 1 })
    const pub = await connect(a.mqttUrl)
    await pub.publishAsync('tls/route', 'across', { qos: 1 })
    await waitFor(() => got.length === 1, 5000, 'the routed message on B')
    assert.deepEqual(got[0], { topic: 'tls/route', payload: 'across', qos: 1, retain: false })
    await endAll(sub, pub)
  })

  it('a persistent session moves from A to B with its queued message, and session show on A finds it on B', async () => {
    const mover = await connect(a.mqttUrl, { clientId: 'tls-mover', clean: false })
    await mover.subscribeAsync('tls/moved', { qos: 1 })
    await mover.endAsync()
    const pub = await connect(a.mqttUrl)
    await pub.publishAsync('tls/moved', 'queued', { qos: 1 })
    const moved = await connect(b.mqttUrl, { clientId: 'tls-mover', clean: false })
    const got = collect(moved)
    await waitFor(() => got.length === 1, 5000, 'the queued message handed over to B')
    assert.deepEqual(got[0], { topic: 'tls/moved', payload: 'queued', qos: 1, retain: false })
    const shown = await a.admin(['session', 'show', '--client_id', '--is_online', '--client_id=tls-mover', '--format=json', ...cliTls(pki)])
    assert.equal(shown.code, 0, shown.stderr)
    assert.deepEqual(JSON.parse(shown.stdout).table, [{ client_id: 'tls-mover', is_online: true }])
    await endAll(moved, pub)
  })

  it('cluster show through the CLI with the TLS flags, or with -c vernemq.conf, shows both members', async () => {
    const expected = { [a.nodename]: true, [b.nodename]: true }
    assert.deepEqual(await members(b, cliTls(pki)), expected)
    // the node's cluster listener is configured on port 0: -c gives the cookie and TLS files, --node the bound port
    const fromConfig = await vmq(['cluster', 'show', '--format=json', '-c', a.confFile, '--node', a.adminAddress])
    assert.equal(fromConfig.code, 0, fromConfig.stderr)
    const rows = JSON.parse(fromConfig.stdout).table as Array<{ Node: string, Running: boolean }>
    assert.deepEqual(Object.fromEntries(rows.map(r => [r.Node, r.Running])), expected)
    const portZero = await vmq(['cluster', 'show', '-c', a.confFile])
    assert.deepEqual([portZero.code, portZero.stdout, portZero.stderr], [1, '', `${a.confFile}: the cluster listener is on port 0 (the node took a free port at start): pass --node host:port as the node printed it, or as its --ports-file says\n`])
  })

  it('the CLI without TLS flags, with a wrong CA or without a client certificate exits 2 with one line', async () => {
    const plain = await a.admin(['cluster', 'show'])
    assert.equal(plain.code, 2)
    assert.equal(oneLine(plain), `Node '${a.adminAddress}' not reachable: it expects TLS (its cluster listener is vmqs) and this connection is plain: ` +
      'pass --tls-cafile (and --tls-certfile/--tls-keyfile) or -c with its vernemq.conf')
    const wrongCa = await a.admin(['cluster', 'show', '--tls-cafile', pki.otherCa, '--tls-certfile', pki.client.cert, '--tls-keyfile', pki.client.key])
    assert.equal(wrongCa.code, 2)
    assert.equal(oneLine(wrongCa), `Node '${a.adminAddress}' not reachable: TLS handshake failed: self-signed certificate in certificate chain (its certificate is not trusted)`)
    const noCert = await a.admin(['cluster', 'show', '--tls-cafile', pki.ca])
    assert.equal(noCert.code, 2)
    assert.equal(oneLine(noCert), `Node '${a.adminAddress}' not reachable: TLS handshake failed: tlsv13 alert certificate required (it does not accept this client certificate)`)
    const missing = await a.admin(['cluster', 'show', '--tls-cafile', join(dir, 'nope.pem')])
    assert.equal(missing.code, 1)
    assert.equal(oneLine(missing), `--tls-cafile = ${join(dir, 'nope.pem')}: no such file`)
  })

  it('a node whose certificate another CA signed cannot join', async () => {
    // c's config trusts the cluster's CA, not the one that signed c's own certificate: its readiness call trusts that one
    const c = await startNode({ clusterType: 'vmqs', conf: [...OPEN_ACCESS, ...vmqsConf(pki, intruder, 'listener.vmqs')], adminTls: { 'tls-cafile': pki.otherCa, 'tls-certfile': pki.client.cert, 'tls-keyfile': pki.client.key } })
    nodes.push(c)
    // the CLI trusts c's certificate and presents one c accepts; c's own call to a is refused
    const join = await c.admin(['cluster', 'join', `discovery-node=${a.adminAddress}`, '--tls-cafile', pki.otherCa, '--tls-certfile', pki.client.cert, '--tls-keyfile', pki.client.key])
    assert.equal(join.code, 2)
    assert.equal(oneLine(join), `RPC to '${c.adminAddress}' failed: tls_failed: ${a.adminAddress}: TLS handshake failed: ` +
      'it closed the connection right after the handshake (it does not accept this client certificate)')
    assert.deepEqual(await members(a, cliTls(pki)), { [a.nodename]: true, [b.nodename]: true })
  })

  it('a plain vmq node cannot join a vmqs cluster', async () => {
    const d = await startNode({ conf: OPEN_ACCESS })
    nodes.push(d)
    const join = await d.admin(['cluster', 'join', `discovery-node=${a.adminAddress}`])
    assert.equal(join.code, 2)
    assert.equal(oneLine(join), `RPC to '${d.adminAddress}' failed: tls_failed: ${a.adminAddress}: it expects TLS (its cluster listener is vmqs) and this connection is plain`)
    assert.deepEqual(await members(a, cliTls(pki)), { [a.nodename]: true, [b.nodename]: true })
  })
})

describe('vmqs configuration mistakes refuse the start', () => {
  let dir: string
  let pki: Pki
  before(() => {
    dir = tempDir('vmq-pki-')
    pki = makePki(dir)
  })
  after(() => { rmSync(dir, { recursive: true, force: true }) })

  async function refusal (clusterType: 'vmq' | 'vmqs', conf: string[]): Promise<string> {
    const node = await startNode({ clusterType, conf: [...OPEN_ACCESS, ...conf], noWait: true })
    try {
      assert.equal(await node.waitExit(), 1)
      return node.stderr
    } finally {
      node.cleanup()
    }
  }

  it('a vmqs listener without certfile', async () => {
    const stderr = await refusal('vmqs', [])
    assert.match(stderr, /listener\.vmqs\.clustering\.certfile is not set: a TLS listener needs certfile and keyfile/)
  })

  it('require_certificate without cafile', async () => {
    const stderr = await refusal('vmqs', [`listener.vmqs.certfile = ${pki.server.cert}`, `listener.vmqs.keyfile = ${pki.server.key}`, 'listener.vmqs.require_certificate = on'])
    assert.match(stderr, /listener\.vmqs\.clustering\.cafile is not set: require_certificate = on needs the CA that signs client certificates/)
  })

  it('both a vmq and a vmqs listener', async () => {
    const stderr = await refusal('vmq', ['listener.vmqs.secure = 127.0.0.1:0', `listener.vmqs.certfile = ${pki.server.cert}`, `listener.vmqs.keyfile = ${pki.server.key}`])
    assert.match(stderr, /listener\.vmq\.clustering and listener\.vmqs\.secure are both configured: a node has one cluster listener, plain \(vmq\) or TLS \(vmqs\); set the other to off/)
  })
})
