import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { MqttClient } from 'mqtt'
import { collect, connect, endAll, type Received } from './helpers/mqtt.js'
import { startNode, tempDir, waitFor, type TestNode } from './helpers/processes.js'

type Row = Record<string, string | number | boolean | null>

async function ok (node: TestNode, args: string[]): Promise<string> {
  const r = await node.admin(args)
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`)
  return r.stdout
}

/** Publishes with `publisher`, then a marker with `watcher`: true when the publish arrived before the marker. */
async function delivered (publisher: MqttClient, watcher: MqttClient, seen: Received[], topic: string): Promise<boolean> {
  const before = seen.length
  publisher.publish(topic, 'x', { qos: 0 })
  await watcher.publishAsync('open/marker', 'm', { qos: 1 })
  await waitFor(() => seen.slice(before).some(m => m.topic === 'open/marker'), 5000, 'the marker')
  return seen.slice(before).some(m => m.topic === topic)
}

describe('plugin commands and session reauthorize', () => {
  let node: TestNode
  let aclFile: string
  const setAcl = async (lines: string[]): Promise<void> => {
    writeFileSync(aclFile, lines.join('\n') + '\n')
    await ok(node, ['set', `vmq_acl.acl_file=${aclFile}`]) // reloads at once
  }
  let files: string
  before(async () => {
    files = tempDir('vmq-plugin-test-')
    aclFile = join(files, 'vmq.acl')
    writeFileSync(aclFile, 'topic read #\ntopic write open/#\n')
    writeFileSync(join(files, 'vmq.passwd'), '')
    node = await startNode({
      conf: ['allow_anonymous = on', `vmq_acl.acl_file = ${aclFile}`, 'vmq_acl.acl_reload_interval = 0',
        `vmq_passwd.password_file = ${join(files, 'vmq.passwd')}`, 'vmq_passwd.password_reload_interval = 0']
    })
  })
  after(async () => { await node.stop(); node.cleanup(); rmSync(files, { recursive: true, force: true }) })

  it('plugin show lists vmq_passwd and vmq_acl with their hooks, one per line in the cell', async () => {
    const json = JSON.parse(await ok(node, ['plugin', 'show', '--format=json']))
    assert.deepEqual(json, {
      type: 'table',
      table: [
        { Plugin: 'vmq_passwd', Type: 'application', 'Hook(s)': 'auth_on_register\nauth_on_register_m5\nchange_config' },
        { Plugin: 'vmq_acl', Type: 'application', 'Hook(s)': 'auth_on_publish\nauth_on_subscribe\nauth_on_publish_m5\nauth_on_subscribe_m5\nchange_config' }
      ]
    })
    const human = await ok(node, ['plugin', 'show'])
    assert.match(human, /^\| Plugin +\| Type +\| Hook\(s\) +\|$/m)
    assert.match(human, /^\| vmq_passwd \| application \| auth_on_register +\|\n\| +\| +\| auth_on_register_m5 +\|$/m)
  })

  it('plugin disable vmq_acl lets a denied publish through; enable brings the check back', async () => {
    const watcher = await connect(node.mqttUrl)
    const seen = collect(watcher)
    await watcher.subscribeAsync('#', { qos: 1 })
    try {
      // denied: an MQTT 3.1.1 client is disconnected
      const before = await connect(node.mqttUrl)
      let closed = false
      before.on('close', () => { closed = true })
      before.publish('closed/x', 'no', { qos: 0 })
      await waitFor(() => closed, 5000, 'the disconnect for a denied publish')
      before.end(true)

      assert.equal(await ok(node, ['plugin', 'disable', '-n', 'vmq_acl']), 'Done\n')
      assert.deepEqual(JSON.parse(await ok(node, ['plugin', 'show', '--format=json'])).table.map((p: Row) => p.Plugin), ['vmq_passwd'])
      const publisher = await connect(node.mqttUrl)
      assert.equal(await delivered(publisher, watcher, seen, 'closed/x'), true)

      assert.equal(await ok(node, ['plugin', 'enable', '--name=vmq_acl']), 'Done\n')
      assert.deepEqual(JSON.parse(await ok(node, ['plugin', 'show', '--format=json'])).table.map((p: Row) => p.Plugin), ['vmq_passwd', 'vmq_acl'])
      let closedAgain = false
      publisher.on('close', () => { closedAgain = true })
      publisher.publish('closed/y', 'no', { qos: 0 })
      await waitFor(() => closedAgain, 5000, 'the disconnect once vmq_acl is back')
      publisher.end(true)
      assert.equal(seen.some(m => m.topic === 'closed/y'), false)
    } finally {
      await endAll(watcher)
    }
  })

  it('plugin enable/disable refuse unknown names and wrong states with exit 1', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['plugin', 'enable', '-n', 'vmq_nope'], /^Unknown plugin "vmq_nope"; known plugins: vmq_passwd, vmq_acl, vmq_diversity, vmq_webhooks, vmq_bridge\n$/],
      [['plugin', 'disable', '-n', 'vmq_nope'], /^Unknown plugin "vmq_nope"/],
      [['plugin', 'enable', '-n', 'vmq_acl'], /^Can't enable plugin: vmq_acl due to already_enabled\n$/],
      [['plugin', 'disable', '-n', 'vmq_diversity'], /^Can't disable plugin: vmq_diversity due to not_enabled\n$/],
      [['plugin', 'enable'], /name/]
    ]
    for (const [args, expected] of cases) {
      const r = await node.admin(args)
      assert.equal(r.code, 1, args.join(' '))
      assert.match(r.stderr, expected)
    }
  })

  it('session reauthorize after an ACL change drops the subscription no longer allowed', async () => {
    await setAcl(['topic write #', 'topic read keep/#', 'topic read drop/#', 'topic read open/#'])
    const zeta = await connect(node.mqttUrl, { clientId: 'zeta', username: 'zed' })
    const got = collect(zeta)
    await zeta.subscribeAsync('keep/#', { qos: 1 })
    await zeta.subscribeAsync('drop/#', { qos: 1 })
    const publisher = await connect(node.mqttUrl)
    try {
      await setAcl(['topic write #', 'topic read keep/#'])
      assert.equal(await ok(node, ['session', 'reauthorize', 'username=zed', 'client-id=zeta']), 'Done\n')
      assert.equal(await ok(node, ['session', 'reauthorize', 'username=zed', 'client-id=zeta']), 'Unchanged\n')
      const subs = JSON.parse(await ok(node, ['session', 'show', '--client_id=zeta', '--topic', '--format=json'])).table
      assert.deepEqual(subs, [{ topic: 'keep/#' }])
      await publisher.publishAsync('drop/x', 'gone', { qos: 1 })
      await publisher.publishAsync('keep/x', 'kept', { qos: 1 })
      await waitFor(() => got.some(m => m.topic === 'keep/x'), 5000, 'the message on the kept subscription')
      assert.deepEqual(got.map(m => m.topic), ['keep/x'])

      const unknown = await node.admin(['session', 'reauthorize', 'username=zed', 'client-id=nobody'])
      assert.equal(unknown.code, 1)
      assert.match(unknown.stderr, /No session found for client-id "nobody"/)
    } finally {
      await endAll(zeta, publisher)
    }
  })
})
