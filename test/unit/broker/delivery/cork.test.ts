import assert from 'node:assert/strict'
import { once } from 'node:events'
import net from 'node:net'
import { after, before, test } from 'node:test'
import { corkPerTurn, flushCorked } from '../../../../src/broker/delivery/cork.js'

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

test('flushCorked sends a corked socket\'s writes at once, and the end of the turn finds nothing left to uncork', async () => {
  accepted.write('c')
  flushCorked(accepted)
  assert.equal(accepted.writableCorked, 0)
  assert.equal(accepted.writableLength, 0)
  // a write after the flush corks again, until the end of this turn
  accepted.write('d')
  assert.equal(accepted.writableCorked, 1)
  await new Promise(resolve => setImmediate(resolve))
  assert.equal(accepted.writableCorked, 0)
  let got = ''
  while (got.length < 2) got += String((await once(client, 'data'))[0])
  assert.equal(got, 'cd')
})

test('flushCorked of a socket that is not corked changes nothing', () => {
  flushCorked(accepted)
  flushCorked({})
  assert.equal(accepted.writableCorked, 0)
})
