import { test } from 'node:test'
import assert from 'node:assert/strict'
import mqtt from 'mqtt-packet'
import { Framer, type FrameSink } from '../../../bench/load/framer.js'
import { monotonicMicros, publishTemplate } from '../../../bench/load/packets.js'

function recorder (): FrameSink & { events: string[] } {
  const events: string[] = []
  return {
    events,
    connack: code => events.push(`connack ${code}`),
    suback: qos => events.push(`suback ${qos}`),
    publish: (buf, start, end, qos, dup, id) => events.push(`publish q${qos} id${id} ${dup ? 'dup ' : ''}${buf.subarray(start, end).toString()}`),
    puback: id => events.push(`puback ${id}`)
  }
}

test('the framer finds every packet even when chunks split headers and bodies anywhere', () => {
  const stream = Buffer.concat([
    mqtt.generate({ cmd: 'connack', returnCode: 0, sessionPresent: false }),
    mqtt.generate({ cmd: 'suback', messageId: 1, granted: [1] }),
    mqtt.generate({ cmd: 'publish', topic: 'a/b', payload: Buffer.from('hello'), qos: 1, messageId: 7, dup: true, retain: false }),
    mqtt.generate({ cmd: 'publish', topic: 'long', payload: Buffer.alloc(300, 0x78), qos: 0, retain: false, dup: false }),
    mqtt.generate({ cmd: 'puback', messageId: 65535 })
  ])
  const expected = ['connack 0', 'suback 1', 'publish q1 id7 dup hello', `publish q0 id0 ${'x'.repeat(300)}`, 'puback 65535']
  for (let step = 1; step <= stream.length; step += 3) {
    const sink = recorder()
    const framer = new Framer(sink)
    for (let i = 0; i < stream.length; i += step) framer.push(stream.subarray(i, i + step))
    assert.deepEqual(sink.events, expected, `chunks of ${step} bytes`)
  }
})

test('a publish template carries its packet id and send time where the framer reads them', () => {
  const template = publishTemplate('bench/t', 1, 64)
  const packet = Buffer.from(template.bytes)
  packet.writeUInt16BE(4242, template.idOffset)
  const sent = monotonicMicros()
  packet.writeDoubleLE(sent, template.payloadOffset)
  const parsed: Array<{ id: number, sent: number, size: number }> = []
  new Framer({
    connack: () => {},
    suback: () => {},
    puback: () => {},
    publish: (buf, start, end, _qos, _dup, id) => parsed.push({ id, sent: buf.readDoubleLE(start), size: end - start })
  }).push(packet)
  assert.deepEqual(parsed, [{ id: 4242, sent, size: 64 }])
})
