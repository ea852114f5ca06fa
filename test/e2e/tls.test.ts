import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { X509Certificate } from 'node:crypto'
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:https'
import { connect as tcpConnect } from 'node:net'
import { join } from 'node:path'
import type { TLSSocket } from 'node:tls'
import type { IClientOptions, MqttClient } from 'mqtt'
import { encryptKey, makePki, revoke, type Pki } from './helpers/certs.js'
import { collect, connackCode, connect, endAll, grantedQos } from './helpers/mqtt.js'
import { run, startNode, tempDir, waitFor, type TestNode } from './helpers/processes.js'

const OPEN = ['allow_anonymous = on', 'plugins.vmq_acl = off', 'plugins.vmq_passwd = off']

function tlsOptions (pki: Pki, client?: { cert: string, key: string }): IClientOptions {
  const options: IClientOptions = { ca: [readFileSync(pki.ca)] }
  if (client !== undefined) {
    options.cert = readFileSync(client.cert)
    options.key = readFileSync(client.key)
  }
  return options
}

function serverFingerprint (client: MqttClient): string {
  return (client.stream as TLSSocket).getPeerCertificate().fingerprint256
}

function fingerprintOf (certFile: string): string {
  return new X509Certificate(readFileSync(certFile)).fingerprint256
}

describe('TLS and WebSocket-over-TLS listeners', () => {
  let pki: Pki
  let dir: string
  before(() => {
    dir = tempDir('vmq-pki-')
    pki = makePki(dir)
  })
  after(() => { rmSync(dir, { recursive: true, force: true }) })

  async function tlsNode (lines: string[], opts: { wss?: boolean } = {}): Promise<{ node: TestNode, port: number, wssPort: number }> {
    const node = await startNode({
      conf: [
        'log.console.level = debug',
        'listener.ssl.default = 127.0.0.1:0',
        ...(opts.wss === true ? ['listener.wss.default = 127.0.0.1:0'] : []),
        `listener.cafile = ${pki.ca}`,
        `listener.certfile = ${pki.server.cert}`,
        `listener.keyfile = ${pki.server.key}`,
        ...lines
      ]
    })
    return { node, port: node.port('ssl.default'), wssPort: opts.wss === true ? node.port('wss.default') : 0 }
  }

  it('serves MQTT over TLS to MQTT.js and mosquitto_pub --cafile', async () => {
    const { node, port } = await tlsNode(OPEN)
    try {
      assert.match(node.stdout, new RegExp(`listener mqtts ssl.default on 127.0.0.1:${port}`))
      const sub = await connect(`mqtts://127.0.0.1:${port}`, tlsOptions(pki))
      const got = collect(sub)
      await sub.subscribeAsync('tls/#', { qos: 1 })
      await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '--cafile', pki.ca, '-t', 'tls/mosq', '-m', 'over tls', '-q', '1'])
      const plain = await connect(node.mqttUrl)
      await plain.publishAsync('tls/plain', 'from tcp', { qos: 1 })
      await waitFor(() => got.length === 2, 5000, 'both messages over TLS')
      assert.deepEqual(got.map(m => m.payload).sort(), ['from tcp', 'over tls'])
      await endAll(sub, plain)
    } finally {
      await node.stop()
      node.cleanup()
    }
  })

  it('serves MQTT over wss at /mqtt and answers 404 elsewhere', async () => {
    const { node, wssPort } = await tlsNode(OPEN, { wss: true })
    try {
      const ws = await connect(`wss://127.0.0.1:${wssPort}/mqtt`, tlsOptions(pki))
      const got = collect(ws)
      await ws.subscribeAsync('wss/t')
      const tcp = await connect(node.mqttUrl)
      await tcp.publishAsync('wss/t', 'over wss')
      await waitFor(() => got.length === 1, 5000, 'the message over wss')
      await endAll(ws, tcp)
      const status = await new Promise<number | undefined>((resolve, reject) => {
        request({ host: '127.0.0.1', port: wssPort, path: '/other', ca: readFileSync(pki.ca), headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' } })
          .on('response', res => resolve(res.statusCode))
          .on('upgrade', () => resolve(101))
          .on('error', reject)
          .end()
      })
      assert.equal(status, 404)
    } finally {
      await node.stop()
      node.cleanup()
    }
  })

  it('require_certificate refuses clients without a certificate or with one from another CA', async () => {
    const { node, port } = await tlsNode([...OPEN, 'listener.ssl.require_certificate = on'])
    const url = `mqtts://127.0.0.1:${port}`
    try {
      const alice = await connect(url, tlsOptions(pki, pki.client))
      await alice.endAsync(true)
      assert.equal(await connackCode(url, tlsOptions(pki)), 'closed')
      assert.equal(await connackCode(url, tlsOptions(pki, pki.otherClient)), 'closed')
      const withCert = await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '--cafile', pki.ca, '--cert', pki.client.cert, '--key', pki.client.key, '-t', 't', '-m', 'x'])
      assert.equal(withCert.code, 0, withCert.stderr)
      const without = await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '--cafile', pki.ca, '-t', 't', '-m', 'x'])
      // the server refuses the handshake after mosquitto_pub sent its (empty) certificate: a lost connection to it
      assert.deepEqual([without.code, without.stderr], [7, 'Error: The connection was lost.\n'])
      await waitFor(() => node.stdout.includes('TLS handshake failed'), 5000, 'the refusal in the log')
    } finally {
      await node.stop()
      node.cleanup()
    }
  })

  it('use_identity_as_username: the certificate CN is the username and no password is asked', async () => {
    const { node, port } = await tlsNode([
      'allow_anonymous = off', 'plugins.vmq_acl = off', 'plugins.vmq_passwd = off',
      'listener.ssl.require_certificate = on', 'listener.ssl.use_identity_as_username = on'
    ])
    try {
      const alice = await connect(`mqtts://127.0.0.1:${port}`, { ...tlsOptions(pki, pki.client), clientId: 'alice-device', username: 'someone-else' })
      await waitFor(() => /client connected client=alice-device .*username=alice\b/.test(node.stdout), 5000, 'the connect log line with username=alice')
      await alice.endAsync(true)
      // the same node still refuses plain clients without credentials
      assert.equal(await connackCode(node.mqttUrl, { clientId: 'anon' }), 5)
    } finally {
      await node.stop()
      node.cleanup()
    }
  })

  it('use_identity_as_username: the ACL applies to the certificate CN', async () => {
    const acl = join(dir, 'cn.acl')
    writeFileSync(acl, 'user alice\ntopic alice/#\n')
    const { node, port } = await tlsNode([
      'allow_anonymous = off', 'plugins.vmq_passwd = off', 'plugins.vmq_acl = on', `vmq_acl.acl_file = ${acl}`,
      'listener.ssl.require_certificate = on', 'listener.ssl.use_identity_as_username = on'
    ])
    try {
      const alice = await connect(`mqtts://127.0.0.1:${port}`, { ...tlsOptions(pki, pki.client), clientId: 'alice-acl', username: 'mallory' })
      assert.equal(await grantedQos(alice, 'alice/inbox', 1), 1)
      assert.equal(await grantedQos(alice, 'mallory/inbox', 1), 128)
      await alice.endAsync(true)
    } finally {
      await node.stop()
      node.cleanup()
    }
  })

  it('depth limits the intermediate CAs in a client chain', async () => {
    const strict = await tlsNode([...OPEN, 'listener.ssl.require_certificate = on', 'listener.ssl.depth = 0'])
    try {
      const url = `mqtts://127.0.0.1:${strict.port}`
      const alice = await connect(url, tlsOptions(pki, pki.client))
      await alice.endAsync(true)
      assert.equal(await connackCode(url, tlsOptions(pki, pki.deepClient)), 'closed')
      await waitFor(() => strict.node.stdout.includes('more than listener.ssl.default.depth = 0'), 5000, 'the depth refusal in the log')
    } finally {
      await strict.node.stop()
      strict.node.cleanup()
    }
    const relaxed = await tlsNode([...OPEN, 'listener.ssl.require_certificate = on', 'listener.ssl.depth = 1'])
    try {
      const carol = await connect(`mqtts://127.0.0.1:${relaxed.port}`, tlsOptions(pki, pki.deepClient))
      await carol.endAsync(true)
    } finally {
      await relaxed.node.stop()
      relaxed.node.cleanup()
    }
  })

  it('crlfile refuses revoked client certificates', async () => {
    const crl = revoke(pki, pki.bob.cert)
    const { node, port } = await tlsNode([...OPEN, 'listener.ssl.require_certificate = on', `listener.ssl.crlfile = ${crl}`])
    try {
      const url = `mqtts://127.0.0.1:${port}`
      const alice = await connect(url, tlsOptions(pki, pki.client))
      await alice.endAsync(true)
      assert.equal(await connackCode(url, tlsOptions(pki, pki.bob)), 'closed')
    } finally {
      await node.stop()
      node.cleanup()
    }
  })

  it('closes a connection whose TLS handshake does not finish within tls_handshake_timeout', async () => {
    const { node, port } = await tlsNode([...OPEN, 'listener.ssl.tls_handshake_timeout = 300'])
    try {
      const socket = tcpConnect(port, '127.0.0.1')
      socket.on('error', () => {})
      const started = Date.now()
      await new Promise<void>(resolve => socket.once('close', () => resolve()))
      assert.ok(Date.now() - started < 3000, 'closed by the handshake timeout')
      await waitFor(() => node.stdout.includes('TLS handshake failed'), 5000, 'the timeout in the log')
    } finally {
      await node.stop()
      node.cleanup()
    }
  })

  it('an encrypted key is opened with keypasswd', async () => {
    const key = encryptKey(dir, pki.server.key, 'pa55')
    const { node, port } = await tlsNode([...OPEN, `listener.ssl.keyfile = ${key}`, 'listener.ssl.keypasswd = pa55'])
    try {
      const c = await connect(`mqtts://127.0.0.1:${port}`, tlsOptions(pki))
      await c.endAsync(true)
    } finally {
      await node.stop()
      node.cleanup()
    }
  })

  for (const [what, lines, expected] of [
    ['a missing certfile', (d: string) => [`listener.ssl.default.certfile = ${join(d, 'missing.pem')}`], (d: string) => `listener.ssl.default.certfile = ${join(d, 'missing.pem')}: no such file`],
    ['a key that does not match the certificate', (_d: string) => [`listener.ssl.keyfile = ${pki.client.key}`], (_d: string) => `listener.ssl.default.keyfile = ${pki.client.key}: the key does not match listener.ssl.default.certfile = ${pki.server.cert}`],
    ['a wrong keypasswd', (d: string) => [`listener.ssl.keyfile = ${encryptKey(d, pki.server.key, 'right')}`, 'listener.ssl.keypasswd = wrong'], (d: string) => `listener.ssl.default.keyfile = ${join(d, 'encrypted.key')}: cannot decrypt the key: wrong keypasswd`]
  ] as const) {
    it(`refuses to start with ${what}, in one line`, async () => {
      const node = await startNode({
        noWait: true,
        conf: [...OPEN, 'listener.ssl.default = 127.0.0.1:0', `listener.certfile = ${pki.server.cert}`, `listener.keyfile = ${pki.server.key}`, ...lines(dir)]
      })
      try {
        assert.equal(await node.waitExit(), 1)
        assert.equal(node.stderr, `Error: cannot start the node: ${expected(dir)}\n`)
      } finally {
        node.cleanup()
      }
    })
  }

  it('serves rotated certificate files without a restart, and after tls clear-pem-cache', async () => {
    const certfile = join(dir, 'live.pem')
    const keyfile = join(dir, 'live.key')
    copyFileSync(pki.server.cert, certfile)
    copyFileSync(pki.server.key, keyfile)
    const { node, port } = await tlsNode([...OPEN, `listener.ssl.certfile = ${certfile}`, `listener.ssl.keyfile = ${keyfile}`])
    const url = `mqtts://127.0.0.1:${port}`
    const fingerprint = async (): Promise<string> => {
      const c = await connect(url, tlsOptions(pki))
      const f = serverFingerprint(c)
      await c.endAsync(true)
      return f
    }
    try {
      assert.equal(await fingerprint(), fingerprintOf(pki.server.cert))
      // a half-done rotation (new certificate, old key) is reported and not used
      copyFileSync(pki.server2.cert, certfile)
      await waitFor(async () => { await fingerprint(); return node.stdout.includes('TLS certificate files changed but cannot be used') }, 5000, 'the broken-rotation warning')
      assert.equal(await fingerprint(), fingerprintOf(pki.server.cert))
      copyFileSync(pki.server2.key, keyfile)
      await waitFor(async () => await fingerprint() === fingerprintOf(pki.server2.cert), 5000, 'the rotated certificate')
      copyFileSync(pki.server.cert, certfile)
      copyFileSync(pki.server.key, keyfile)
      const r = await node.admin(['tls', 'clear-pem-cache'])
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stdout, 'Done\n')
      assert.equal(await fingerprint(), fingerprintOf(pki.server.cert))
    } finally {
      await node.stop()
      node.cleanup()
    }
  })
})
