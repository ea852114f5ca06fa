import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { connect, endAll } from './helpers/mqtt.js'
import { OPEN_ACCESS, startNode, type TestNode } from './helpers/processes.js'

const RED = '\u001b[31m'
const TITLE = '\u001b]0;pwned\u0007'

describe('client-controlled text in human tables', () => {
  let node: TestNode
  before(async () => { node = await startNode({ conf: OPEN_ACCESS }) })
  after(async () => { await node.stop(); node.cleanup() })

  it('retain show --payload escapes ESC, BEL, DEL, C1 and CR as \\xHH; --format=json keeps the payload exact', async () => {
    const payload = `${RED}red\r${TITLE}\u007f\u009b`
    const pub = await connect(node.mqttUrl, { clientId: 'esc-pub' })
    try {
      await pub.publishAsync('esc/1', payload, { qos: 1, retain: true })
      const human = await node.admin(['retain', 'show', '--payload', '--topic=esc/1'])
      assert.equal(human.code, 0, human.stderr)
      assert.doesNotMatch(human.stdout, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/, 'no control character but the line breaks')
      assert.ok(human.stdout.includes('| \\x1b[31mred\\x0d\\x1b]0;pwned\\x07\\x7f\\x9b |'), human.stdout)
      const json = await node.admin(['retain', 'show', '--payload', '--topic=esc/1', '--format=json'])
      assert.deepEqual(JSON.parse(json.stdout).table, [{ payload }])
    } finally {
      await endAll(pub)
    }
  })

  it('session show escapes a client id with an escape sequence; --format=json keeps it exact', async () => {
    const id = `e${RED}x`
    const client = await connect(node.mqttUrl, { clientId: id })
    try {
      const human = await node.admin(['session', 'show', '--client_id', '--is_online'])
      assert.equal(human.code, 0, human.stderr)
      assert.ok(human.stdout.includes('| e\\x1b[31mx '), human.stdout)
      assert.ok(!human.stdout.includes('\u001b'), 'no ESC byte reaches the terminal')
      const json = await node.admin(['session', 'show', '--client_id', '--is_online', '--format=json'])
      assert.ok((JSON.parse(json.stdout).table as Array<{ client_id: string }>).some(r => r.client_id === id))
    } finally {
      await endAll(client)
    }
  })
})
