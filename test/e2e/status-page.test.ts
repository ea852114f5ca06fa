import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { MqttClient } from 'mqtt'
import type { Browser } from 'playwright-core'
import { waitMembers } from './helpers/cluster.js'
import { artifact, launchChromium } from './helpers/browser.js'
import { connect, endAll } from './helpers/mqtt.js'
import { OPEN_ACCESS, REPO, startNode, waitFor, type TestNode } from './helpers/processes.js'

const VERSION = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version

type Entry = Record<string, unknown> & { reachable: boolean }

async function statusJson (port: number): Promise<{ type: string, body: [Record<string, Entry>] }> {
  const res = await fetch(`http://127.0.0.1:${port}/status.json`, { signal: AbortSignal.timeout(10000) })
  assert.equal(res.status, 200)
  return { type: res.headers.get('content-type') ?? '', body: await res.json() as [Record<string, Entry>] }
}

/** Counts as a node's /status.json entry gives them. */
function counts (entry: Entry): Record<string, unknown> {
  const { num_online: online, num_offline: offline, num_subscriptions: subs, num_retained: retained, msg_in: msgIn } = entry
  return { online, offline, subs, retained, msgIn }
}

describe('status page of a 2-node cluster: /status.json and /status in headless chromium', () => {
  let n1: TestNode
  let n2: TestNode
  let httpPort: number
  const clients: MqttClient[] = []
  let browser: Browser | undefined

  before(async () => {
    n1 = await startNode({ conf: [...OPEN_ACCESS, 'listener.http.default = 127.0.0.1:0'] })
    httpPort = n1.port('http.default')
    n2 = await startNode({ conf: [...OPEN_ACCESS, `discovery_node = ${n1.adminAddress}`] })
    await waitMembers(n1, { [n1.nodename]: true, [n2.nodename]: true }, 15000)
    // n1: 3 clean clients, one of them publishes 4 messages, one retained
    for (let i = 0; i < 3; i++) clients.push(await connect(n1.mqttUrl, { clientId: `s1-${i}` }))
    for (let i = 0; i < 4; i++) await clients[0].publishAsync('status/t', `m${i}`, { qos: 1, retain: i === 3 })
    // n2: 2 clean clients, and a persistent session with 2 subscriptions that goes offline
    for (let i = 0; i < 2; i++) clients.push(await connect(n2.mqttUrl, { clientId: `s2-${i}` }))
    const persistent = await connect(n2.mqttUrl, { clientId: 's2-persistent', clean: false })
    await persistent.subscribeAsync({ 'status/a': { qos: 1 }, 'status/b': { qos: 1 } })
    await endAll(persistent)
    // 3 messages wait in its offline queue
    for (let i = 0; i < 3; i++) await clients[3].publishAsync('status/a', `q${i}`, { qos: 1 })
  })

  after(async () => {
    await browser?.close()
    await endAll(...clients)
    await n1.stop()
    await n2.stop()
    n1.cleanup()
    n2.cleanup()
  })

  it('/status.json: one entry per member, this node first, with its clients, subscriptions, retained, listeners and view of the members', async () => {
    let last: [Record<string, Entry>] | undefined
    await waitFor(async () => {
      last = (await statusJson(httpPort)).body
      const e2 = last[0][n2.nodename]
      return e2 !== undefined && e2.num_offline === 1 && last[0][n1.nodename].num_retained === 1 && e2.num_retained === 1
    }, 10000, `status.json with the offline session and the retained message (last ${JSON.stringify(last)})`)
    const { type, body } = await statusJson(httpPort)
    assert.equal(type, 'application/json')
    assert.equal(body.length, 1)
    assert.deepEqual(Object.keys(body[0]), [n1.nodename, n2.nodename])
    const e1 = body[0][n1.nodename]
    const e2 = body[0][n2.nodename]
    assert.deepEqual(counts(e1), { online: 3, offline: 0, subs: 0, retained: 1, msgIn: 4 })
    assert.deepEqual(counts(e2), { online: 2, offline: 1, subs: 2, retained: 1, msgIn: 3 })
    const queued = (e: Entry): number => (e.queue_in as number) - ((e.queue_out as number) + (e.queue_drop as number) + (e.queue_unhandled as number))
    assert.equal(queued(e1), 0)
    assert.equal(queued(e2), 3)
    assert.equal(e1.reachable, true)
    assert.equal(e1.version, VERSION)
    assert.equal(e2.version, VERSION)
    assert.deepEqual(e1.mystatus, [{ [n1.nodename]: true, [n2.nodename]: true }])
    assert.deepEqual(e2.mystatus, [{ [n1.nodename]: true, [n2.nodename]: true }])
    assert.deepEqual(e1.listeners, [
      { type: 'mqtt', status: 'running', ip: '127.0.0.1', port: n1.mqttPort, mountpoint: '', max_conns: 10000 },
      { type: 'mqttws', status: 'running', ip: '127.0.0.1', port: n1.wsPort, mountpoint: '', max_conns: 10000 },
      { type: 'http', status: 'running', ip: '127.0.0.1', port: httpPort, mountpoint: '', max_conns: 10000 },
      { type: 'vmq', status: 'running', ip: '127.0.0.1', port: n1.adminPort, mountpoint: '', max_conns: 'infinity' }
    ])
    for (const key of ['msg_out', 'queue_in', 'queue_out', 'queue_drop', 'queue_unhandled', 'connects']) {
      assert.equal(typeof e1[key], 'number', `${key} in ${JSON.stringify(e1)}`)
    }
    assert.equal(e1.connects, 3)
    assert.equal(e2.connects, 3)
  })

  it('/status in chromium: cluster size, client counts and node cards; a suspended listener and a killed member show in the issues box', async () => {
    browser = await launchChromium()
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    await page.goto(`http://127.0.0.1:${httpPort}/status`)
    const text = async (selector: string): Promise<string> => (await page.textContent(selector))?.trim() ?? ''
    await page.waitForSelector(`[data-node="${n2.nodename}"]`, { timeout: 30000 })
    assert.equal(await text('#cluster-size'), '2')
    assert.equal(await text('#clients-online'), '5')
    assert.equal(await text('#clients-offline'), '1')
    assert.equal(await text(`[data-node="${n1.nodename}"] [data-field="online"]`), '3')
    assert.equal(await text(`[data-node="${n2.nodename}"] [data-field="online"]`), '2')
    assert.equal(await text(`[data-node="${n2.nodename}"] [data-field="offline"]`), '1')
    assert.equal(await text(`[data-node="${n2.nodename}"] [data-field="subscriptions"]`), '2')
    assert.equal(await text(`[data-node="${n2.nodename}"] [data-field="queued"]`), '3')
    assert.equal(await text('#queued'), '3')
    assert.equal(await text(`[data-node="${n1.nodename}"] [data-field="retained"]`), '1')
    assert.equal(await text(`[data-node="${n1.nodename}"] [data-field="peers"]`), '1 of 1')
    assert.equal(await text(`[data-node="${n1.nodename}"] h3`), `${n1.nodename}${VERSION}`)
    assert.deepEqual(await page.locator('#issues li').allTextContents(), ['All good! No cluster issues found.'])
    await page.screenshot({ path: artifact('status-page.png'), fullPage: true })

    // on a phone: nothing wider than the screen
    await page.setViewportSize({ width: 390, height: 844 })
    assert.equal(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), true, 'horizontal scrolling at 390 px')
    await page.screenshot({ path: artifact('status-page-phone.png'), fullPage: true })
    await page.setViewportSize({ width: 1280, height: 900 })

    // rates: 40 publishes between two refreshes give a publish-in rate above 0 (its value depends on the timing)
    for (let i = 0; i < 40; i++) await clients[0].publishAsync('status/rate', `r${i}`, { qos: 1 })
    // both read in one go: the next refresh sets the rates back to 0
    const rates = await page.waitForFunction(name => {
      const overall = Number(document.querySelector('#publish-in-rate')?.textContent)
      const node = Number(document.querySelector(`[data-node="${name}"] [data-field="msg-in-rate"]`)?.textContent)
      return overall > 0 ? { overall, node } : false
    }, n1.nodename, { timeout: 30000 })
    const { overall, node } = await rates.jsonValue() as { overall: number, node: number }
    assert.equal(node, overall)

    const stop = await n1.admin(['listener', 'stop', 'address=127.0.0.1', `port=${n1.mqttPort}`])
    assert.equal(stop.code, 0, stop.stderr)
    const suspended = `${n1.nodename}: MQTT listener (127.0.0.1:${n1.mqttPort}) is suspended.`
    await page.waitForFunction(line => [...document.querySelectorAll('#issues li')].some(li => li.textContent === line), suspended, { timeout: 30000 })
    const restart = await n1.admin(['listener', 'restart', 'address=127.0.0.1', `port=${n1.mqttPort}`])
    assert.equal(restart.code, 0, restart.stderr)

    await n2.kill()
    const unreachable = `${n2.nodename} is not reachable.`
    await page.waitForFunction(line => [...document.querySelectorAll('#issues li.danger')].some(li => li.textContent === line), unreachable, { timeout: 30000 })
    assert.deepEqual(await page.locator('#issues li').allTextContents(), [unreachable])
    assert.equal(await page.getAttribute(`[data-node="${n2.nodename}"]`, 'class'), 'node down')
    assert.equal(await text('#cluster-size'), '2')
    assert.equal(await text('#clients-online'), '3')
    assert.equal(await text(`[data-node="${n1.nodename}"] [data-field="peers"]`), '0 of 1')
    await page.screenshot({ path: artifact('status-page-member-down.png'), fullPage: true })

    const { body } = await statusJson(httpPort)
    assert.deepEqual(Object.keys(body[0]), [n1.nodename, n2.nodename])
    assert.equal(body[0][n2.nodename].reachable, false)
    assert.match(String(body[0][n2.nodename].reason), /^not running \(/)
    assert.deepEqual(body[0][n1.nodename].mystatus, [{ [n1.nodename]: true, [n2.nodename]: false }])
  })

  it('/status is the HTML page; HEAD answers without a body', async () => {
    const res = await fetch(`http://127.0.0.1:${httpPort}/status`, { signal: AbortSignal.timeout(5000) })
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8')
    assert.match(await res.text(), /^<!doctype html>/)
    const head = await fetch(`http://127.0.0.1:${httpPort}/status`, { method: 'HEAD', signal: AbortSignal.timeout(5000) })
    assert.equal(head.status, 200)
    assert.equal(await head.text(), '')
  })
})
