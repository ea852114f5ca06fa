import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import type { TLSSocket } from 'node:tls'
import { makeCert, makePki, type Pki } from './helpers/certs.js'
import { connackCode } from './helpers/mqtt.js'
import { startNode, tempDir, waitFor, type TestNode } from './helpers/processes.js'

describe('vmq_webhooks over https', () => {
  let pki: Pki
  let server: Server
  let url: string
  const peers: Array<string | undefined> = []
  let node: TestNode

  before(async () => {
    pki = makePki(tempDir('vmq-webhooks-tls-'))
    // asks for a client certificate, answers with or without one
    server = createServer({ cert: readFileSync(pki.server.cert), key: readFileSync(pki.server.key), ca: readFileSync(pki.ca), requestCert: true, rejectUnauthorized: false }, (req, res) => {
      const socket = req.socket as TLSSocket
      const cn = socket.authorized ? socket.getPeerCertificate().subject?.CN : undefined
      peers.push(Array.isArray(cn) ? cn[0] : cn)
      req.resume()
      req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json' }).end('{"result":"ok"}') })
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/auth`
    node = await startNode({
      conf: ['plugins.vmq_passwd = off', 'plugins.vmq_acl = off', 'plugins.vmq_webhooks = on',
        'vmq_webhooks.tls.hook = auth_on_register', `vmq_webhooks.tls.endpoint = ${url}`, `vmq_webhooks.cafile = ${pki.ca}`]
    })
  })
  after(async () => {
    await node.stop()
    node.cleanup()
    server.closeAllConnections()
    await new Promise<void>(resolve => server.close(() => { resolve() }))
    rmSync(pki.dir, { recursive: true, force: true })
  })

  const login = async (id: string): Promise<number | 'closed'> => await connackCode(node.mqttUrl, { clientId: id, username: 'u', password: 'p' })

  it('cafile verifies the endpoint; without it the endpoint is not trusted and the client is refused; verify_peer = off trusts it', async () => {
    assert.equal(await login('tls-1'), 0)
    assert.equal((await node.admin(['set', 'vmq_webhooks.cafile='])).code, 0)
    assert.equal(await login('tls-2'), 5)
    // the node's log line comes through its stdout pipe, which may trail the CONNACK
    await waitFor(() => /for auth_on_register failed due to (UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)/.test(node.stdout), 5000, 'the TLS failure line')
    assert.equal((await node.admin(['set', 'vmq_webhooks.verify_peer=off'])).code, 0)
    assert.equal(await login('tls-3'), 0)
    assert.equal((await node.admin(['set', 'vmq_webhooks.verify_peer=on', `vmq_webhooks.cafile=${pki.ca}`])).code, 0)
  })

  it('certfile and keyfile: the node presents its client certificate', async () => {
    assert.equal((await node.admin(['set', `vmq_webhooks.certfile=${pki.client.cert}`, `vmq_webhooks.keyfile=${pki.client.key}`])).code, 0)
    assert.equal(await login('tls-4'), 0)
    assert.equal(peers.at(-1), 'alice')
  })

  it('an unreadable cafile fails the calls, naming the key', async () => {
    assert.equal((await node.admin(['set', `vmq_webhooks.cafile=${pki.dir}/missing.pem`])).code, 0)
    assert.equal(await login('tls-5'), 5)
    await waitFor(() => /failed due to vmq_webhooks\.cafile: cannot read .*missing\.pem \(ENOENT\)/.test(node.stdout), 5000, 'the cafile failure line')
  })
})

describe('vmq_webhooks.depth', () => {
  it('an endpoint whose certificate chain has more intermediate CAs than vmq_webhooks.depth fails the call, naming the reason', async () => {
    const pki = makePki(tempDir('vmq-webhooks-depth-'))
    // the endpoint's certificate is signed by the intermediate, which it presents too
    const deep = makeCert(pki.dir, 'deep-server', 'localhost', 'server', { cert: pki.intermediate, key: join(pki.dir, 'intermediate.key') })
    const chain = readFileSync(deep.cert, 'utf8') + readFileSync(pki.intermediate, 'utf8')
    const server = createServer({ cert: chain, key: readFileSync(deep.key) }, (req, res) => {
      req.resume()
      req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json' }).end('{"result":"ok"}') })
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/auth`
    const node = await startNode({
      conf: ['plugins.vmq_passwd = off', 'plugins.vmq_acl = off', 'plugins.vmq_webhooks = on',
        'vmq_webhooks.deep.hook = auth_on_register', `vmq_webhooks.deep.endpoint = ${url}`, `vmq_webhooks.cafile = ${pki.ca}`, 'vmq_webhooks.depth = 0']
    })
    const login = async (id: string): Promise<number | 'closed'> => await connackCode(node.mqttUrl, { clientId: id, username: 'u', password: 'p' })
    try {
      assert.equal(await login('depth-0'), 5)
      await waitFor(() => node.stdout.includes('for auth_on_register failed due to CERT_CHAIN_TOO_LONG'), 5000, 'the depth failure line')
      assert.equal((await node.admin(['set', 'vmq_webhooks.depth=1'])).code, 0)
      assert.equal(await login('depth-1'), 0)
    } finally {
      await node.stop()
      node.cleanup()
      server.closeAllConnections()
      await new Promise<void>(resolve => server.close(() => { resolve() }))
      rmSync(pki.dir, { recursive: true, force: true })
    }
  })
})
