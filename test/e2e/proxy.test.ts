import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, rmSync } from 'node:fs'
import { connect as tcpConnect, type Socket } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import { MqttClient } from 'mqtt'
import mqttPacket from 'mqtt-packet'
import { makePki, type Pki } from './helpers/certs.js'
import { connect } from './helpers/mqtt.js'
import { startNode, tempDir, waitFor, type TestNode } from './helpers/processes.js'

const SIGNATURE = Buffer.from('\r\n\r\n\0\r\nQUIT\n', 'binary')

/** A PROXY v2 header for a TCP client at `source` (IPv4 or IPv6 bytes), with optional TLVs. */
function v2Header (source: number[], port: number, tlvs: Buffer = Buffer.alloc(0)): Buffer {
  const v6 = source.length === 16
  const destination = v6 ? [...Array(15).fill(0), 1] : [127, 0, 0, 1]
  const ports = Buffer.alloc(4)
  ports.writeUInt16BE(port, 0)
  ports.writeUInt16BE(1883, 2)
  const body = Buffer.concat([Buffer.from(source), Buffer.from(destination), ports, tlvs])
  const head = Buffer.from([0x21, v6 ? 0x21 : 0x11, 0, 0])
  head.writeUInt16BE(body.length, 2)
  return Buffer.concat([SIGNATURE, head, body])
}

function tlv (type: number, value: Buffer): Buffer {
  const head = Buffer.from([type, 0, 0])
  head.writeUInt16BE(value.length, 1)
  return Buffer.concat([head, value])
}

/** PP2_TYPE_SSL with a verified client certificate whose CN is `cn`. */
function sslTlv (cn: string): Buffer {
  const fixed = Buffer.from([0x03, 0, 0, 0, 0])
  return tlv(0x20, Buffer.concat([fixed, tlv(0x22, Buffer.from(cn))]))
}

function connectPacket (clientId: string): Buffer {
  return mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId, keepalive: 0 })
}

/** Writes `header` and a CONNECT on a raw socket; resolves with the CONNACK return code or 'closed'. */
async function proxiedConnack (port: number, header: Buffer, clientId: string): Promise<number | 'closed'> {
  const socket = tcpConnect(port, '127.0.0.1')
  socket.write(Buffer.concat([header, connectPacket(clientId)]))
  return await connackOf(socket)
}

async function connackOf (socket: Socket): Promise<number | 'closed'> {
  return await new Promise(resolve => {
    let got = Buffer.alloc(0)
    const timer = setTimeout(() => { socket.destroy(); resolve('closed') }, 5000)
    socket.on('data', (chunk: Buffer) => {
      got = Buffer.concat([got, chunk])
      if (got.length >= 4 && got[0] === 0x20) {
        clearTimeout(timer)
        socket.destroy()
        resolve(got[3])
      }
    })
    socket.on('error', () => {})
    socket.on('close', () => { clearTimeout(timer); resolve('closed') })
  })
}

describe('PROXY protocol listeners', () => {
  let node: TestNode
  let proxied: number
  let proxiedTls: number
  let proxiedWs: number
  let proxiedWss: number
  let pki: Pki
  let dir: string
  before(async () => {
    dir = tempDir('vmq-pki-')
    pki = makePki(dir)
    node = await startNode({
      conf: [
        'allow_anonymous = off', 'plugins.vmq_acl = off', 'plugins.vmq_passwd = off', 'log.console.level = debug',
        'listener.tcp.proxied = 127.0.0.1:0',
        'listener.tcp.proxied.proxy_protocol = on',
        'listener.tcp.proxied.allow_anonymous_override = on',
        'listener.tcp.strict = 127.0.0.1:0',
        'listener.tcp.strict.proxy_protocol = on',
        'listener.ssl.proxied = 127.0.0.1:0',
        'listener.ssl.proxied.proxy_protocol = on',
        'listener.ssl.proxied.allow_anonymous_override = on',
        'listener.ws.proxied = 127.0.0.1:0',
        'listener.wss.proxied = 127.0.0.1:0',
        'listener.ws.proxy_protocol = on',
        'listener.wss.proxy_protocol = on',
        'listener.ws.allow_anonymous_override = on',
        'listener.wss.allow_anonymous_override = on',
        `listener.certfile = ${pki.server.cert}`,
        `listener.keyfile = ${pki.server.key}`
      ]
    })
    proxied = node.port('tcp.proxied')
    proxiedTls = node.port('ssl.proxied')
    proxiedWs = node.port('ws.proxied')
    proxiedWss = node.port('wss.proxied')
  })
  after(async () => {
    await node.stop()
    node.cleanup()
    rmSync(dir, { recursive: true, force: true })
  })

  const strictPort = (): number => node.port('tcp.strict')

  it('a v1 header sets the peer address of the client', async () => {
    assert.equal(await proxiedConnack(proxied, Buffer.from('PROXY TCP4 203.0.113.7 127.0.0.1 4242 1883\r\n'), 'via-v1'), 0)
    await waitFor(() => node.stdout.includes('client connected client=via-v1 mountpoint= peer=203.0.113.7:4242'), 5000, 'the peer address from the v1 header')
  })

  it('session show reports the address from the PROXY header as peer_host and peer_port', async () => {
    const socket = tcpConnect(proxied, '127.0.0.1')
    socket.write(Buffer.from('PROXY TCP4 203.0.113.8 127.0.0.1 4343 1883\r\n'))
    socket.write(connectPacket('shown-peer'))
    try {
      // wait for the CONNACK but keep the connection open
      const connack = await new Promise<number | 'closed'>(resolve => {
        let got = Buffer.alloc(0)
        socket.on('data', (chunk: Buffer) => {
          got = Buffer.concat([got, chunk])
          if (got.length >= 4 && got[0] === 0x20) resolve(got[3])
        })
        socket.on('close', () => resolve('closed'))
      })
      assert.equal(connack, 0)
      const r = await node.admin(['session', 'show', '--client_id=shown-peer', '--peer_host', '--peer_port', '--format=json'])
      assert.equal(r.code, 0, r.stderr)
      const rows = JSON.parse(r.stdout).table as Array<Record<string, unknown>>
      assert.equal(rows.length, 1)
      assert.equal(rows[0].peer_host, '203.0.113.8')
      assert.equal(Number(rows[0].peer_port), 4343)
    } finally {
      socket.destroy()
    }
  })

  it('a v2 header sets the peer address (IPv4 and IPv6)', async () => {
    assert.equal(await proxiedConnack(proxied, v2Header([198, 51, 100, 20], 5555), 'via-v2'), 0)
    await waitFor(() => node.stdout.includes('client connected client=via-v2 mountpoint= peer=198.51.100.20:5555'), 5000, 'the peer address from the v2 header')
    const v6 = [0x20, 0x01, 0x0d, 0xb8, ...Array(11).fill(0), 0x09]
    assert.equal(await proxiedConnack(proxied, v2Header(v6, 6000), 'via-v2-v6'), 0)
    await waitFor(() => node.stdout.includes('client connected client=via-v2-v6 mountpoint= peer=2001:db8::9:6000'), 5000, 'the IPv6 peer address')
  })

  it('the CN of a v2 TLS TLV becomes the username and needs no password', async () => {
    assert.equal(await proxiedConnack(strictPort(), v2Header([192, 0, 2, 1], 7000, sslTlv('alice')), 'cn-client'), 0)
    await waitFor(() => /client connected client=cn-client mountpoint= peer=192\.0\.2\.1:7000 username=alice/.test(node.stdout), 5000, 'username=alice')
    // without the TLV the same listener asks for credentials
    assert.equal(await proxiedConnack(strictPort(), v2Header([192, 0, 2, 1], 7001), 'no-cn'), 5)
  })

  it('closes a connection without a valid header and says so in the log', async () => {
    const socket = tcpConnect(proxied, '127.0.0.1')
    socket.write(connectPacket('no-header'))
    assert.equal(await connackOf(socket), 'closed')
    await waitFor(() => node.stdout.includes('PROXY protocol header missing or invalid, connection closed'), 5000, 'the log line')
    assert.equal(await proxiedConnack(proxied, Buffer.from('PROXY TCP4 not-an-ip 127.0.0.1 1 2\r\n'), 'bad-header'), 'closed')
  })

  it('reads the header before the TLS handshake on an ssl listener', async () => {
    const raw = tcpConnect(proxiedTls, '127.0.0.1')
    raw.write(Buffer.from('PROXY TCP4 203.0.113.99 127.0.0.1 9999 8883\r\n'))
    const secure = tlsConnect({ socket: raw, ca: readFileSync(pki.ca), servername: 'localhost' })
    const client = new MqttClient(() => secure, { clientId: 'tls-proxied', reconnectPeriod: 0 })
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve())
      client.once('error', reject)
    })
    await waitFor(() => node.stdout.includes('client connected client=tls-proxied mountpoint= peer=203.0.113.99:9999'), 5000, 'the proxied peer over TLS')
    await client.endAsync(true)
  })

  for (const scheme of ['ws', 'wss'] as const) {
    it(`reads the header before the HTTP upgrade on a ${scheme} listener`, async () => {
      const port = scheme === 'ws' ? proxiedWs : proxiedWss
      const clientId = `${scheme}-proxied`
      const createConnection = (): Socket => {
        const raw = tcpConnect(port, '127.0.0.1')
        raw.write(`PROXY TCP4 203.0.113.${scheme === 'ws' ? 10 : 11} 127.0.0.1 1234 80\r\n`)
        return scheme === 'ws' ? raw : tlsConnect({ socket: raw, ca: readFileSync(pki.ca), servername: 'localhost' })
      }
      const client = await connect(`${scheme}://127.0.0.1:${port}/mqtt`, { clientId, wsOptions: { createConnection } })
      await waitFor(() => node.stdout.includes(`client connected client=${clientId} mountpoint= peer=203.0.113.${scheme === 'ws' ? 10 : 11}:1234`), 5000, `the proxied peer over ${scheme}`)
      await client.endAsync(true)
    })
  }
})
