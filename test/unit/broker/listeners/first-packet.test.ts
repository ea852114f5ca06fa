import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PassThrough } from 'node:stream'
import mqttPacket from 'mqtt-packet'
import { readFirstPacket } from '../../../../src/broker/listeners/first-packet.js'

const connect = mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: 'c1', keepalive: 30, username: 'u', password: Buffer.from('p') })
const ping = mqttPacket.generate({ cmd: 'pingreq' })

/** What is left to read in the stream once it flows again. */
async function rest (stream: PassThrough): Promise<Buffer> {
  stream.end()
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

test('a CONNECT arriving a byte at a time is read, and every byte (with what followed) is put back', async () => {
  const stream = new PassThrough()
  const reading = readFirstPacket(stream, 1024)
  const bytes = Buffer.concat([connect, ping])
  for (let i = 0; i < connect.length - 1; i++) stream.write(bytes.subarray(i, i + 1))
  stream.write(bytes.subarray(connect.length - 1))
  const first = await reading
  assert.equal(first.closed, false)
  assert.equal(first.closed === false ? first.connect?.clientId : undefined, 'c1')
  assert.equal(first.closed === false ? first.connect?.password?.toString() : undefined, 'p')
  assert.deepEqual(await rest(stream), bytes)
})

test('a stream left paused with bytes put back (after a PROXY header) is read too', async () => {
  const stream = new PassThrough()
  stream.pause()
  stream.unshift(connect)
  const first = await readFirstPacket(stream, 1024)
  assert.equal(first.closed === false ? first.connect?.clientId : undefined, 'c1')
  assert.deepEqual(await rest(stream), connect)
})

test('a first packet that is not a CONNECT, or larger than the limit, is put back unparsed at once', async () => {
  const stream = new PassThrough()
  const reading = readFirstPacket(stream, 1024)
  stream.write(ping)
  assert.deepEqual(await reading, { closed: false, connect: undefined })
  assert.deepEqual(await rest(stream), ping)
  const big = new PassThrough()
  const readingBig = readFirstPacket(big, connect.length - 1)
  big.write(connect.subarray(0, 4))
  assert.deepEqual(await readingBig, { closed: false, connect: undefined })
  assert.deepEqual(await rest(big), connect.subarray(0, 4))
})

test('a stream that ends before its CONNECT is complete is reported closed', async () => {
  const stream = new PassThrough()
  const reading = readFirstPacket(stream, 1024)
  stream.end(connect.subarray(0, 5))
  assert.deepEqual(await reading, { closed: true })
})
