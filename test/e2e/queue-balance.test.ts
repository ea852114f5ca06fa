// allow_multiple_sessions: connections sharing a client id share its messages
// (balance) or each get all of them (fanout).
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { MqttClient } from 'mqtt'
import { collect, connect, endAll, type Received } from './helpers/mqtt.js'
import { OPEN_ACCESS, startNode, waitFor, type TestNode } from './helpers/processes.js'
import { ackUntil, fresh, pause, payloads, QUIET_MS, rawSubscriber } from './helpers/queue.js'

describe('allow_multiple_sessions = on', () => {
  for (const mode of ['balance', 'fanout'] as const) {
    describe(`queue_deliver_mode = ${mode}`, () => {
      let node: TestNode
      before(async () => { node = await startNode({ conf: [...OPEN_ACCESS, 'allow_multiple_sessions = on', `queue_deliver_mode = ${mode}`] }) })
      after(async () => { await node.stop(); node.cleanup() })

      it(`gives each of 300 messages to ${mode === 'balance' ? 'one of' : 'each of'} three connections sharing a client id`, async () => {
        const consumers: MqttClient[] = []
        const received: Received[][] = []
        for (let i = 0; i < 3; i++) {
          const c = await connect(node.mqttUrl, { clientId: `shared-${mode}` })
          received.push(collect(c))
          await c.subscribeAsync(`${mode}/t`, { qos: 1 })
          consumers.push(c)
        }
        const pub = await connect(node.mqttUrl)
        for (let i = 0; i < 300; i++) await pub.publishAsync(`${mode}/t`, `m${i}`, { qos: 1 })
        const expected = mode === 'balance' ? 300 : 900
        await waitFor(() => received.flat().length >= expected, 15000, `${expected} deliveries (got ${received.flat().length})`)
        await pause(QUIET_MS)
        assert.equal(received.flat().length, expected)
        assert.ok(consumers.every(c => c.connected), 'no connection was taken over')
        if (mode === 'balance') {
          assert.equal(new Set(received.flat().map(m => m.payload)).size, 300)
          for (const got of received) assert.ok(got.length > 0, 'every connection gets some')
        } else {
          for (const got of received) assert.deepEqual(got.map(m => m.payload), Array.from({ length: 300 }, (_, i) => `m${i}`))
        }
        await endAll(pub, ...consumers)
      })

      if (mode === 'balance') {
        it('hands the unacknowledged messages of a departing connection to the others', async () => {
          const holder = await rawSubscriber(node, 'departing', 'dep/t', 1)
          const acker = await rawSubscriber(node, 'departing', 'dep/t', 1)
          const pub = await connect(node.mqttUrl)
          for (let i = 0; i < 10; i++) await pub.publishAsync('dep/t', `m${i}`, { qos: 1 })
          await waitFor(() => fresh(holder).length + fresh(acker).length >= 10, 5000, 'ten deliveries')
          const held = payloads(fresh(holder))
          assert.ok(held.length > 0 && held.length < 10, `the holder got ${held.length}`)
          for (const p of fresh(acker)) acker.send({ cmd: 'puback', messageId: p.messageId })
          holder.close()
          await ackUntil(acker, 10)
          assert.deepEqual(payloads(fresh(acker)).sort(), Array.from({ length: 10 }, (_, i) => `m${i}`).sort())
          acker.close()
          await endAll(pub)
        })
      }
    })
  }
})
