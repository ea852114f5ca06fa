import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { endConnection } from '../../../../src/broker/delivery/end-connection.js'

function collecting (): { stream: Writable, written: Buffer[], errors: Error[] } {
  const written: Buffer[] = []
  const errors: Error[] = []
  const stream = new Writable({ write (chunk: Buffer, _encoding, done) { written.push(chunk); done() } })
  stream.on('error', err => errors.push(err))
  return { stream, written, errors }
}

test('the last bytes go out, then the end; a later write is dropped, its callback called, and does not fail the stream', async () => {
  const { stream, written, errors } = collecting()
  stream.write(Buffer.from('connack'))
  endConnection(stream, Buffer.from('disconnect'))
  let called = false
  assert.equal(stream.write(Buffer.from('suback'), () => { called = true }), true)
  await new Promise(resolve => stream.once('finish', resolve))
  await new Promise(resolve => setImmediate(resolve))
  assert.deepEqual(written.map(b => b.toString()), ['connack', 'disconnect'])
  assert.equal(called, true)
  assert.deepEqual(errors, [])
  assert.equal(stream.destroyed, true, 'auto-destroyed once finished, as a socket is after its FIN')
})

test('without last bytes it only ends the stream', async () => {
  const { stream, written, errors } = collecting()
  endConnection(stream)
  stream.write(Buffer.from('late'))
  await new Promise(resolve => stream.once('finish', resolve))
  assert.deepEqual(written, [])
  assert.deepEqual(errors, [])
})
