// The store under a real aedes 2 broker with real MQTT clients on 127.0.0.1.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { EventEmitter, once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, connect as tcpConnect, type AddressInfo, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Aedes, type AedesOptions } from 'aedes'
import mqtt, { type MqttClient } from 'mqtt'
import mqttPacket, { type Packet } from 'mqtt-packet'
import { openLevelPersistence, type LevelPersistence } from '../../../../src/broker/store/level-persistence.js'

const TIMEOUT_MS = 5000

const dirs: string[] = []
function tempDir (): string {
  const dir = mkdtempSync(join(tmpdir(), 'vmq-store-aedes-'))
  dirs.push(dir)
  return dir
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

interface RunningBroker { broker: Aedes, port: number, url: string, stop: () => Promise<void> }

async function startBroker (persistence: LevelPersistence | undefined, opts: AedesOptions = {}): Promise<RunningBroker> {
  const broker = await Aedes.createBroker({ ...opts, persistence })
  const server = createServer(broker.handle)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as AddressInfo).port
  return {
    broker,
    port,
    url: `mqtt://127.0.0.1:${port}`,
    stop: async () => {
      await new Promise<void>(resolve => broker.close(() => resolve()))
      await new Promise<void>(resolve => server.close(() => resolve()))
      await persistence?.destroy()
    }
  }
}

async function waitFor (condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + TIMEOUT_MS
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}

interface Emitter { once: (event: string, listener: () => void) => unknown, removeListener: (event: string, listener: () => void) => unknown }

async function waitForEvent (emitter: Emitter, event: string, what: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.removeListener(event, done)
      reject(new Error(`timed out waiting for ${what}`))
    }, TIMEOUT_MS)
    function done (): void {
      clearTimeout(timer)
      resolve()
    }
    emitter.once(event, done)
  })
}

function clientsOf (running: RunningBroker): Record<string, unknown> {
  return (running.broker as unknown as { clients: Record<string, unknown> }).clients
}

/** Connects an MQTT.js client collecting message payloads from the very first packet. */
async function client (url: string, clientId: string, clean: boolean): Promise<{ c: MqttClient, got: string[] }> {
  const c = mqtt.connect(url, { clientId, clean, reconnectPeriod: 0 })
  const got: string[] = []
  c.on('message', (_topic, payload) => got.push(payload.toString()))
  await waitForEvent(c as unknown as Emitter, 'connect', `${clientId} to connect`)
  return { c, got }
}

async function disconnected (running: RunningBroker, c: MqttClient, clientId: string): Promise<void> {
  await c.endAsync()
  await waitFor(() => clientsOf(running)[clientId] === undefined, `${clientId} to be gone from the broker`)
}

/** A client speaking raw MQTT, to choose packet ids and leave a QoS 2 flow unfinished. */
class RawClient {
  readonly #socket: Socket
  readonly #received: Packet[] = []
  readonly #arrived = new EventEmitter()

  private constructor (socket: Socket) {
    this.#socket = socket
    const parser = mqttPacket.parser()
    parser.on('packet', (packet: Packet) => {
      this.#received.push(packet)
      this.#arrived.emit('packet')
    })
    socket.on('data', (chunk: Buffer) => parser.parse(chunk))
  }

  static async connect (port: number, clientId: string, clean: boolean): Promise<RawClient> {
    const socket = tcpConnect(port, '127.0.0.1')
    await waitForEvent(socket, 'connect', 'the raw client socket')
    const raw = new RawClient(socket)
    raw.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean, clientId, keepalive: 0 })
    await raw.next('connack')
    return raw
  }

  send (packet: Packet): void {
    this.#socket.write(mqttPacket.generate(packet))
  }

  async next (cmd: Packet['cmd']): Promise<Packet> {
    const deadline = Date.now() + TIMEOUT_MS
    for (;;) {
      const at = this.#received.findIndex(p => p.cmd === cmd)
      if (at >= 0) return this.#received.splice(at, 1)[0]
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${cmd}`)
      await waitForEvent(this.#arrived, 'packet', cmd)
    }
  }

  destroy (): void {
    this.#socket.destroy()
  }
}

function qos2Publish (payload: string, messageId: number): Packet {
  return { cmd: 'publish', topic: 'q2', payload: Buffer.from(payload), qos: 2, messageId, retain: false, dup: false }
}

/**
 * A clean session leaves a QoS 2 PUBLISH (packet id 1) unreleased and drops;
 * a new clean session of the same id publishes another message with packet
 * id 1 and completes the flow. Returns what a subscriber received.
 */
async function reusePacketIdAfterCleanReconnect (persistence: LevelPersistence | undefined): Promise<string[]> {
  const running = await startBroker(persistence)
  try {
    const observer = await client(running.url, 'observer', true)
    await observer.c.subscribeAsync('q2', { qos: 0 })

    const first = await RawClient.connect(running.port, 'reuser', true)
    first.send(qos2Publish('first', 1))
    await first.next('pubrec')
    first.destroy()
    await waitFor(() => clientsOf(running).reuser === undefined, 'the first session to end')

    const second = await RawClient.connect(running.port, 'reuser', true)
    second.send(qos2Publish('second', 1))
    await second.next('pubrec')
    second.send({ cmd: 'pubrel', messageId: 1 })
    await second.next('pubcomp')
    // same publisher, same topic: arrives after 'second' if 'second' arrives at all
    second.send({ cmd: 'publish', topic: 'q2', payload: Buffer.from('sentinel'), qos: 0, retain: false, dup: false })
    await waitFor(() => observer.got.includes('sentinel'), 'the sentinel message')
    second.destroy()
    await observer.c.endAsync()
    return observer.got
  } finally {
    await running.stop()
  }
}

test('a new clean session reusing an unreleased QoS 2 packet id gets its message delivered', async () => {
  const store = await openLevelPersistence({ path: tempDir() })
  assert.deepEqual(await reusePacketIdAfterCleanReconnect(store), ['first', 'second', 'sentinel'])
})

// The defect guarded above, shown on aedes' own memory store. If this starts
// failing after an aedes upgrade, aedes fixed it and the guard can go.
test('aedes 2.0.0-beta.1 with its memory store loses that message', async () => {
  assert.deepEqual(await reusePacketIdAfterCleanReconnect(undefined), ['first', 'sentinel'])
})

test('max_offline_messages drops what an offline session receives beyond the limit, not what an online one does', async () => {
  const store = await openLevelPersistence({ path: tempDir(), maxOfflineMessages: 3 })
  const running = await startBroker(store)
  try {
    const sub = await client(running.url, 'sub', false)
    await sub.c.subscribeAsync('t', { qos: 1 })
    await disconnected(running, sub.c, 'sub')

    const pub = await client(running.url, 'pub', true)
    const observer = await client(running.url, 'observer', true)
    await observer.c.subscribeAsync('t', { qos: 1 })
    for (let i = 0; i < 5; i++) await pub.c.publishAsync('t', `m${i}`, { qos: 1 })
    // aedes routes a message only after queueing it
    await waitFor(() => observer.got.length === 5, `the five messages to be routed (got ${observer.got.join()})`)
    assert.equal(store.queueLength('sub'), 3)
    assert.equal(store.offlineDropped, 2)

    const back = await client(running.url, 'sub', false)
    for (let i = 0; i < 10; i++) await pub.c.publishAsync('t', `online${i}`, { qos: 1 })
    await waitFor(() => back.got.length === 13, 'three queued and ten online messages')
    // aedes drains the backlog while delivering live messages, so the two
    // interleave (with its memory store too); each keeps its own order
    assert.deepEqual(back.got.filter(m => m.startsWith('m')), ['m0', 'm1', 'm2'])
    assert.deepEqual(back.got.filter(m => m.startsWith('online')), Array.from({ length: 10 }, (_, i) => `online${i}`))
    assert.equal(store.offlineDropped, 2)
    await waitFor(() => store.queueLength('sub') === 0, 'every delivered message to be acknowledged')
    await Promise.all([back.c.endAsync(), pub.c.endAsync(), observer.c.endAsync()])
  } finally {
    await running.stop()
  }
})

test('a persistent session, its queue and retained messages survive a broker restart', async () => {
  const dir = tempDir()
  const first = await startBroker(await openLevelPersistence({ path: dir }))
  const sub = await client(first.url, 'keeper', false)
  await sub.c.subscribeAsync({ 'news/#': { qos: 1 }, 'retained/#': { qos: 2 } })
  await disconnected(first, sub.c, 'keeper')
  const pub = await client(first.url, 'pub', true)
  await pub.c.publishAsync('retained/flag', 'up', { qos: 1, retain: true })
  for (let i = 0; i < 5; i++) await pub.c.publishAsync('news/today', `n${i}`, { qos: 1 })
  await pub.c.endAsync()
  await first.stop()

  const store = await openLevelPersistence({ path: dir })
  assert.equal(store.queueLength('keeper'), 6)
  const second = await startBroker(store)
  try {
    const back = await client(second.url, 'keeper', false)
    await waitFor(() => back.got.length === 6, 'the six queued messages')
    assert.deepEqual(back.got, ['up', 'n0', 'n1', 'n2', 'n3', 'n4'])
    // the subscription came back with the session: no SUBSCRIBE needed
    const pub2 = await client(second.url, 'pub2', true)
    await pub2.c.publishAsync('news/tomorrow', 'fresh', { qos: 1 })
    await waitFor(() => back.got.includes('fresh'), 'a message published after the restart')
    const late = await client(second.url, 'late', true)
    await late.c.subscribeAsync('retained/#', { qos: 0 })
    await waitFor(() => late.got.includes('up'), 'the retained message')
    await Promise.all([back.c.endAsync(), pub2.c.endAsync(), late.c.endAsync()])
  } finally {
    await second.stop()
  }
})

test('a refused filter of a SUBSCRIBE is not kept in the persistent session', async () => {
  const store = await openLevelPersistence({ path: tempDir() })
  const running = await startBroker(store, {
    authorizeSubscribe: (_client, sub, callback) => {
      if (sub.topic.startsWith('secret')) callback(null, null)
      else callback(null, sub)
    }
  })
  try {
    const sub = await client(running.url, 'curious', false)
    const granted = await new Promise<number[]>(resolve => {
      sub.c.subscribe({ open: { qos: 1 }, 'secret/#': { qos: 1 } }, (_err, grants) => {
        resolve((grants ?? []).map(g => g.qos))
      })
    })
    assert.equal(granted[0], 1)
    await waitFor(() => store.stats().subscriptions === 1, 'the refused filter to be dropped')
    assert.deepEqual((await store.subscriptionsByClient({ id: 'curious' })).map(s => s.topic), ['open'])
    await disconnected(running, sub.c, 'curious')

    const pub = await client(running.url, 'pub', true)
    await pub.c.publishAsync('secret/plans', 'hidden', { qos: 1 })
    await pub.c.publishAsync('open', 'visible', { qos: 1 })
    await waitFor(() => store.queueLength('curious') === 1, 'the allowed message to be queued')
    const back = await client(running.url, 'curious', false)
    await waitFor(() => back.got.length === 1, 'the queued message')
    assert.deepEqual(back.got, ['visible'])
    await Promise.all([back.c.endAsync(), pub.c.endAsync()])
  } finally {
    await running.stop()
  }
})

// aedes drops a message routed after one with a higher brokerCounter (its
// per-subscriber dedupe), so queueing must not delay routing: if it waited for
// the disk, a message with no offline subscriber would overtake a queued one
// and a subscriber of both would lose the queued one (half of them here).
test('queueing for an offline session does not make online subscribers lose messages', async () => {
  const store = await openLevelPersistence({ path: tempDir() })
  const running = await startBroker(store)
  try {
    const away = await client(running.url, 'away', false)
    await away.c.subscribeAsync('kept', { qos: 1 })
    await disconnected(running, away.c, 'away')
    const watcher = await client(running.url, 'watcher', true)
    await watcher.c.subscribeAsync('#', { qos: 1 })
    const pub = await client(running.url, 'pub', true)
    const sent: string[] = []
    for (let i = 0; i < 40; i++) {
      sent.push(`x${i}`)
      pub.c.publish(i % 2 === 0 ? 'kept' : 'other', `x${i}`, { qos: 1 })
    }
    await waitFor(() => watcher.got.length === 40, `all forty messages (got ${watcher.got.length})`)
    assert.deepEqual(watcher.got, sent)
    await waitFor(() => store.queueLength('away') === 20, 'the twenty messages for the offline session queued')
    await Promise.all([watcher.c.endAsync(), pub.c.endAsync()])
  } finally {
    await running.stop()
  }
})

// aedes restores a resumed session's subscriptions before it streams the
// queue: a message routed in between goes out live and must not go out again
// from the queue. The message is published from inside that window (aedes
// stores the will there) to make the race certain. (aedes even sends it before
// the CONNACK, which MQTT.js does not accept, hence the raw client.)
test('a message routed while a persistent session resumes is sent once', async () => {
  const store = await openLevelPersistence({ path: tempDir() })
  const running = await startBroker(store)
  try {
    const resumer = await client(running.url, 'resumer', false)
    await resumer.c.subscribeAsync('resume', { qos: 1 })
    await disconnected(running, resumer.c, 'resumer')

    let armed = true
    const delWill = store.delWill.bind(store)
    store.delWill = async (c) => {
      if (armed && c.id === 'resumer') {
        armed = false
        await new Promise<void>(resolve => {
          running.broker.publish({ cmd: 'publish', topic: 'resume', payload: Buffer.from('between'), qos: 1, retain: false, dup: false }, () => resolve())
        })
      }
      return await delWill(c)
    }
    const back = await RawClient.connect(running.port, 'resumer', false)
    const probe = await client(running.url, 'probe', true)
    await probe.c.publishAsync('resume', 'after', { qos: 1 })
    const payloads: string[] = []
    while (!payloads.includes('after')) {
      const publish = await back.next('publish') as { payload: Buffer, messageId: number }
      payloads.push(publish.payload.toString())
      back.send({ cmd: 'puback', messageId: publish.messageId })
    }
    assert.deepEqual(payloads, ['between', 'after'])
    back.destroy()
    await probe.c.endAsync()
  } finally {
    await running.stop()
  }
})
