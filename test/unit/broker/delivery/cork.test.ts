import assert from 'node:assert/strict'
import { once } from 'node:events'
import net from 'node:net'
import { after, before, test } from 'node:test'
import { corkPerTurn, flushSoon } from '../../../../src/broker/delivery/cork.js'

let server: net.Server
let client: net.Socket
let accepted: net.Socket

before(async () => {
  server = net.createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as net.AddressInfo
  client = net.connect(port, '127.0.0.1')
  const [socket] = await once(server, 'connection') as [net.Socket]
  accepted = socket
  corkPerTurn(accepted)
})

after(() => {
  client.destroy()
  accepted.destroy()
  server.close()
})

test('writes of one turn wait corked until the turn ends', async () => {
  accepted.write('a')
  accepted.write('b')
  assert.equal(accepted.writableCorked, 1)
  assert.equal(accepted.writableLength, 2)
  await new Promise(resolve => setImmediate(resolve))
  assert.equal(accepted.writableCorked, 0)
  const [data] = await once(client, 'data') as [Buffer]
  assert.equal(data.toString(), 'ab')
})


test('flushSoon sends a corked socket\'s writes at the end of the callback, once per turn', async () => {
  accepted.write('c')
  flushSoon(accepted)
  await new Promise<void>(resolve => { process.nextTick(resolve) })
  assert.equal(accepted.writableCorked, 0, 'flushed before the turn ends')
  accepted.write('d')
  flushSoon(accepted)
  await new Promise<void>(resolve => { process.nextTick(resolve) })
  assert.equal(accepted.writableCorked, 1, 'the second in the same turn waits for the end of the turn')
  await new Promise(resolve => setImmediate(resolve))
  assert.equal(accepted.writableCorked, 0)
  let received = ''
  while (received.length < 2) received += ((await once(client, 'data')) as [Buffer])[0].toString()
  assert.equal(received, 'cd')
})
