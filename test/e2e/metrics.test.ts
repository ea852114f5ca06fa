import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, rmSync } from 'node:fs'
import { get as httpsGet } from 'node:https'
import { makePki } from './helpers/certs.js'
import { connackCode, connect, endAll } from './helpers/mqtt.js'
import { OPEN_ACCESS, startNode, tempDir, waitFor, type TestNode } from './helpers/processes.js'
import { parseMetrics } from './helpers/prom.js'

interface Reply { status: number, type: string, body: string }

async function get (port: number, path: string): Promise<Reply> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5000) })
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() }
}

describe('HTTP listener: /metrics and /health', () => {
  let node: TestNode
  let httpPort: number
  before(async () => {
    node = await startNode({ conf: [...OPEN_ACCESS, 'listener.http.default = 127.0.0.1:0'] })
    httpPort = node.port('http.default')
  })
  after(async () => {
    await node.stop()
    node.cleanup()
  })

  it('GET /metrics counts 25 QoS 1 publishes as vernemq_mqtt_publish_received, in Prometheus text with the node label', async () => {
    const series = `vernemq_mqtt_publish_received{mqtt_version="4",node="${node.nodename}"}`
    const before = await get(httpPort, '/metrics')
    assert.equal(before.status, 200)
    assert.match(before.type, /^text\/plain/)
    assert.match(before.body, /^# HELP vernemq_mqtt_publish_received /m)
    assert.match(before.body, /^# TYPE vernemq_mqtt_publish_received counter$/m)
    const start = parseMetrics(before.body).get(series)
    assert.notEqual(start, undefined, before.body)
    const client = await connect(node.mqttUrl, { protocolVersion: 4 })
    for (let i = 0; i < 25; i++) await client.publishAsync('metrics/t', `m${i}`, { qos: 1 })
    await endAll(client)
    const afterText = (await get(httpPort, '/metrics')).body
    const after = parseMetrics(afterText)
    assert.equal(after.get(series), (start as number) + 25)
    assert.equal(after.get(`vernemq_mqtt_publish_received{mqtt_version="5",node="${node.nodename}"}`), 0)
    assert.equal(after.get(`vernemq_mqtt_publish_sent{mqtt_version="4",node="${node.nodename}"}`), 0)
    for (const name of ['socket_open', 'socket_close', 'queue_message_drop', 'queue_message_expired', 'retain_messages',
      'router_subscriptions', 'active_mqtt_connections', 'sessions_online', 'sessions_offline', 'cluster_routed_dropped', 'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds']) {
      assert.notEqual(after.get(`vernemq_${name}{node="${node.nodename}"}`), undefined, `vernemq_${name} in\n${afterText}`)
    }
    assert.ok((after.get(`vernemq_socket_open{node="${node.nodename}"}`) as number) >= 1)
  })

  it('mqtt_connack_sent counts CONNACKs by MQTT version and VerneMQ\'s return code names', async () => {
    const success = `vernemq_mqtt_connack_sent{mqtt_version="4",return_code="success",node="${node.nodename}"}`
    const invalid = `vernemq_mqtt_connack_sent{mqtt_version="4",return_code="client_identifier_not_valid",node="${node.nodename}"}`
    const v5 = `vernemq_mqtt_connack_sent{mqtt_version="5",reason_code="success",node="${node.nodename}"}`
    const before = parseMetrics((await get(httpPort, '/metrics')).body)
    assert.equal(await connackCode(node.mqttUrl, { protocolVersion: 4 }), 0)
    assert.equal(await connackCode(node.mqttUrl, { protocolVersion: 4, clientId: 'x'.repeat(24) }), 2)
    assert.equal(await connackCode(node.mqttUrl, { protocolVersion: 5 }), 0)
    const text = (await get(httpPort, '/metrics')).body
    const after = parseMetrics(text)
    assert.equal(after.get(success), (before.get(success) ?? 0) + 1, text)
    assert.equal(after.get(invalid), (before.get(invalid) ?? 0) + 1, text)
    assert.equal(after.get(v5), (before.get(v5) ?? 0) + 1, text)
  })

  it('prometheus_namespace set at runtime renames every metric', async () => {
    const set = await node.admin(['set', 'prometheus_namespace=mq_'])
    assert.equal(set.code, 0, set.stderr)
    try {
      const text = (await get(httpPort, '/metrics')).body
      assert.notEqual(parseMetrics(text).get(`mq_mqtt_publish_received{mqtt_version="4",node="${node.nodename}"}`), undefined, text)
      assert.doesNotMatch(text, /^vernemq_/m)
    } finally {
      await node.admin(['set', 'prometheus_namespace=vernemq_'])
    }
  })

  it('/health, /health/ping and /health/listeners answer 200 OK while all listeners run', async () => {
    assert.deepEqual(await get(httpPort, '/health'), { status: 200, type: 'application/json', body: '{"status":"OK"}' })
    assert.deepEqual(await get(httpPort, '/health/ping'), { status: 200, type: 'application/json', body: '{"status":"OK"}' })
    assert.deepEqual(await get(httpPort, '/health/listeners'), { status: 200, type: 'application/json', body: '{"status":"OK"}' })
  })

  it('a stopped MQTT listener makes /health and /health/listeners 503 until it is restarted', async () => {
    const stop = await node.admin(['listener', 'stop', 'address=127.0.0.1', `port=${node.mqttPort}`])
    assert.equal(stop.code, 0, stop.stderr)
    const reason = `Listeners are not ready: [mqtt 127.0.0.1:${node.mqttPort} suspended]`
    assert.deepEqual(await get(httpPort, '/health/listeners'), { status: 503, type: 'application/json', body: JSON.stringify({ status: 'DOWN', reason }) })
    assert.deepEqual(await get(httpPort, '/health'), { status: 503, type: 'application/json', body: JSON.stringify({ status: 'DOWN', reasons: [reason] }) })
    assert.equal((await get(httpPort, '/health/ping')).status, 200)
    const restart = await node.admin(['listener', 'restart', 'address=127.0.0.1', `port=${node.mqttPort}`])
    assert.equal(restart.code, 0, restart.stderr)
    assert.equal((await get(httpPort, '/health/listeners')).status, 200)
    assert.equal((await get(httpPort, '/health')).status, 200)
  })

  it('other paths: 404 with a one-line body', async () => {
    assert.deepEqual(await get(httpPort, '/nope'), { status: 404, type: 'text/plain', body: 'not found: /nope\n' })
  })

  it('listener show lists the HTTP listener as type http', async () => {
    const r = await node.admin(['listener', 'show', '--format=json'])
    assert.equal(r.code, 0, r.stderr)
    const rows = (JSON.parse(r.stdout) as { table: Array<{ type: string, port: string, status: string }> }).table
    assert.deepEqual(rows.filter(row => row.type === 'http').map(row => [row.port, row.status]), [[String(httpPort), 'running']])
  })
})

describe('HTTP listener started at runtime', () => {
  it('`listener start --http` serves /health/ping and /metrics until `listener delete`; --http with --websocket is refused', async () => {
    const node = await startNode({ conf: OPEN_ACCESS })
    try {
      const started = await node.admin(['listener', 'start', 'address=127.0.0.1', 'port=0', '--http'])
      assert.equal(started.code, 0, started.stderr)
      // port 0: listener show has the port the kernel gave
      const shown = await node.admin(['listener', 'show', '--format=json'])
      const rows = (JSON.parse(shown.stdout) as { table: Array<{ type: string, port: string, status: string }> }).table.filter(row => row.type === 'http')
      assert.deepEqual(rows.map(row => row.status), ['running'])
      const port = Number(rows[0].port)
      assert.ok(port > 0)
      assert.deepEqual(await get(port, '/health/ping'), { status: 200, type: 'application/json', body: '{"status":"OK"}' })
      assert.equal((await get(port, '/metrics')).status, 200)
      const deleted = await node.admin(['listener', 'delete', 'address=127.0.0.1', `port=${port}`])
      assert.equal(deleted.code, 0, deleted.stderr)
      await assert.rejects(get(port, '/health/ping'))
      const both = await node.admin(['listener', 'start', 'address=127.0.0.1', `port=${port}`, '--http', '--websocket'])
      assert.equal(both.code, 1)
      assert.equal(both.stderr.trim(), '--http and --websocket: an HTTP listener serves no MQTT; give one of them')
    } finally {
      await node.stop()
      node.cleanup()
    }
  })
})

describe('HTTP listener: /health of a cluster member', () => {
  it('503 with the unreachable member while a member is down; a node without listener.http lines has no HTTP listener', async () => {
    const n1 = await startNode({ conf: [...OPEN_ACCESS, 'listener.http.default = 127.0.0.1:0'] })
    const httpPort = n1.port('http.default')
    const n2 = await startNode({ conf: [...OPEN_ACCESS, `discovery_node = ${n1.adminAddress}`] })
    try {
      const shown = await n2.admin(['listener', 'show', '--format=json'])
      assert.deepEqual((JSON.parse(shown.stdout) as { table: Array<{ type: string }> }).table.filter(r => r.type === 'http'), [])
      await waitFor(async () => (await get(httpPort, '/health')).status === 200, 10000, 'both members up')
      await n2.kill()
      await waitFor(async () => (await get(httpPort, '/health')).status === 503, 10000, 'health DOWN')
      assert.deepEqual(JSON.parse((await get(httpPort, '/health')).body), { status: 'DOWN', reasons: [`Cluster members not reachable: [${n2.nodename}]`] })
      assert.equal((await get(httpPort, '/health/listeners')).status, 200)
    } finally {
      await n1.stop()
      n1.cleanup()
      n2.cleanup()
    }
  })
})

describe('HTTPS listener', () => {
  it('listener.https.NAME serves /health over TLS with the certfile/keyfile options; listener show lists it as https', async () => {
    const dir = tempDir('vmq-pki-')
    const pki = makePki(dir)
    const node = await startNode({
      conf: [...OPEN_ACCESS, 'listener.https.default = 127.0.0.1:0', `listener.https.default.certfile = ${pki.server.cert}`, `listener.https.default.keyfile = ${pki.server.key}`]
    })
    const port = node.port('https.default')
    try {
      const answer = await new Promise<{ status: number | undefined, body: string }>((resolve, reject) => {
        const req = httpsGet({ host: '127.0.0.1', port, path: '/health', ca: readFileSync(pki.ca), timeout: 5000 }, res => {
          let body = ''
          res.on('data', (chunk: Buffer) => { body += chunk.toString() })
          res.on('end', () => { resolve({ status: res.statusCode, body }) })
        })
        req.on('timeout', () => { req.destroy(new Error('timeout')) })
        req.on('error', reject)
      })
      assert.deepEqual(answer, { status: 200, body: '{"status":"OK"}' })
      const shown = await node.admin(['listener', 'show', '--format=json'])
      const rows = (JSON.parse(shown.stdout) as { table: Array<{ type: string, port: string }> }).table
      assert.deepEqual(rows.filter(r => r.type === 'https').map(r => r.port), [String(port)])
    } finally {
      await node.stop()
      node.cleanup()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
