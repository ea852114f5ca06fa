import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { waitMembers } from './helpers/cluster.js'
import { connackCode, connect, endAll, grantedCodes } from './helpers/mqtt.js'
import { OPEN_ACCESS, VMQ, startNode, tempDir, vmq, waitFor, type TestNode } from './helpers/processes.js'
import { freePort } from './helpers/free-port.js'

/** A running `vmq trace client ...`: its output lines so far, and how it ended. */
class Trace {
  stderr = ''
  /** complete output lines, kept as they come (a flood test reads tens of thousands) */
  readonly lines: string[] = []
  private partial = ''
  code: number | null | undefined = undefined
  signal: NodeJS.Signals | null = null
  private readonly proc: ChildProcess
  private readonly exited: Promise<void>

  constructor (node: TestNode, args: string[]) {
    this.proc = spawn(process.execPath, [VMQ, 'trace', 'client', ...args, '--node', node.adminAddress], { stdio: ['ignore', 'pipe', 'pipe'] })
    this.proc.stdout?.setEncoding('utf8')
    this.proc.stdout?.on('data', (d: string) => {
      const parts = (this.partial + d).split('\n')
      this.partial = parts.pop() as string
      for (const line of parts) this.lines.push(line)
    })
    this.proc.stderr?.on('data', (d: Buffer) => { this.stderr += d.toString() })
    this.exited = new Promise(resolve => this.proc.on('exit', (code, signal) => { this.code = code; this.signal = signal; resolve() }))
  }

  get stdout (): string { return this.lines.map(l => l + '\n').join('') + this.partial }

  async waitLine (match: string | RegExp, timeoutMs = 10000): Promise<string> {
    let found: string | undefined
    let checked = 0
    await waitFor(() => {
      for (; found === undefined && checked < this.lines.length; checked++) {
        const l = this.lines[checked]
        if (typeof match === 'string' ? l === match : match.test(l)) found = l
      }
      if (found === undefined && this.code !== undefined) throw new Error(`trace exited ${String(this.code)}: ${this.stderr}${this.stdout}`)
      return found !== undefined
    }, timeoutMs, `trace line ${String(match)} (so far: ${this.lines.length} lines, the first ones:\n${this.lines.slice(0, 20).join('\n')}${this.stderr})`)
    return found as string
  }

  /** Stops reading the CLI's output (its pipe fills, and with it the gRPC stream) until resume(). */
  pause (): { resume: () => void } {
    this.proc.stdout?.pause()
    return { resume: () => { this.proc.stdout?.resume() } }
  }

  async kill (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.code === undefined) this.proc.kill(signal)
    await this.exited
  }
}

describe('vmq-admin trace client on a 2-node cluster', () => {
  let a: TestNode
  let b: TestNode
  const traces: Trace[] = []
  const trace = (node: TestNode, args: string[]): Trace => {
    const t = new Trace(node, args)
    traces.push(t)
    return t
  }
  before(async () => {
    a = await startNode({ conf: OPEN_ACCESS })
    b = await startNode({ conf: OPEN_ACCESS })
    const join = await b.admin(['cluster', 'join', `discovery-node=${a.adminAddress}`])
    assert.equal(join.code, 0, join.stderr)
    await waitMembers(a, { [a.nodename]: true, [b.nodename]: true }, 10000)
  })
  after(async () => {
    for (const t of traces) await t.kill()
    await Promise.all([a.stop(), b.stop()])
    a.cleanup()
    b.cleanup()
  })

  it('asked of A, waits for the client, then shows its CONNECT, SUBSCRIBE, PUBLISH in and PUBLISH out on B; stops when the CLI is killed', async () => {
    const t = trace(a, ['client-id=traced-1', '--rate-max=1000', '--rate-interval=1000'])
    await t.waitLine('No sessions found for client "traced-1"; waiting for it to connect')
    const client = await connect(b.mqttUrl, { clientId: 'traced-1', protocolVersion: 4, keepalive: 30 })
    await client.subscribeAsync('tr/#', { qos: 1 })
    const other = await connect(a.mqttUrl, { clientId: 'publisher-1' })
    const delivered = new Promise(resolve => client.once('message', resolve))
    await other.publishAsync('tr/x', 'hello \u001b[31m', { qos: 1 })
    await delivered
    await client.publishAsync('tr/own', 'mine', { qos: 0 })
    const at = `${b.nodename} MQTT`
    const cid = 'CID: "traced-1"'
    await t.waitLine(`${at} RECV: ${cid} CONNECT(c: "traced-1", v: 4, u: undefined, cs: 1, ka: 30)`)
    await t.waitLine(`${at} SEND: ${cid} CONNACK(sp: 0, rc: 0 success)`)
    const subscribe = await t.waitLine(new RegExp(`^${esc(at)} RECV: ${esc(cid)} SUBSCRIBE\\(m(\\d+), q1 "tr/#"\\)$`))
    const subId = /SUBSCRIBE\(m(\d+)/.exec(subscribe)?.[1] as string
    await t.waitLine(`${at} SEND: ${cid} SUBACK(m${subId}, [1])`)
    // the payload's ESC is shown as \u001b, never sent to the terminal as is
    const out = await t.waitLine(new RegExp(`^${esc(at)} SEND: ${esc(cid)} PUBLISH\\(d0, q1, r0, m(\\d+), "tr/x"\\) payload: "hello \\\\u001b\\[31m"$`))
    const outId = /, m(\d+), "tr\/x"/.exec(out)?.[1] as string
    await t.waitLine(`${at} RECV: ${cid} PUBACK(m${outId})`)
    await t.waitLine(`${at} RECV: ${cid} PUBLISH(d0, q0, r0, "tr/own") payload: "mine"`)
    await t.waitLine(`${at} SEND: ${cid} PUBLISH(d0, q0, r0, "tr/own") payload: "mine"`)
    assert.ok(!t.stdout.includes('publisher-1'), t.stdout)
    assert.equal(t.stderr, '')

    await t.kill('SIGKILL')
    for (const node of [a, b]) await waitFor(() => node.stdout.includes('trace stopped client_id=traced-1'), 10000, `trace stopped on ${node.nodename}`)
    // the nodes keep working: the client still gets messages, and is no longer traced
    const again = new Promise(resolve => client.once('message', resolve))
    await other.publishAsync('tr/y', 'after', { qos: 1 })
    await again
    await endAll(client, other)
  })

  it('a client already connected is named with its node; over --rate-max lines are counted, not shown', async () => {
    const client = await connect(b.mqttUrl, { clientId: 'traced-2' })
    const t = trace(b, ['client-id=traced-2', '--rate-max=2', '--rate-interval=60000'])
    await t.waitLine(`Session found for client "traced-2" on ${b.nodename}`)
    await client.subscribeAsync('rate/#', { qos: 0 })
    for (let i = 0; i < 3; i++) await client.publishAsync('rate/t', String(i), { qos: 0 })
    // SUBSCRIBE and SUBACK fit, 3 PUBLISH in and 3 out do not: counted at the end of the interval
    await waitFor(() => t.lines.length >= 3, 10000, `3 lines (so far:\n${t.stdout})`)
    assert.match(t.lines[1], /SUBSCRIBE\(m\d+, q0 "rate\/#"\)$/)
    assert.match(t.lines[2], /SUBACK\(m\d+, \[0\]\)$/)
    assert.equal(t.lines.length, 3, t.stdout)
    await endAll(client)
    await t.kill('SIGINT')
    assert.deepEqual([t.code, t.stderr], [0, ''])
  })

  it('reports the suppressed lines when the interval ends', async () => {
    const t = trace(a, ['client-id=traced-3', '--rate-max=1', '--rate-interval=1500'])
    await t.waitLine('No sessions found for client "traced-3"; waiting for it to connect')
    const client = await connect(a.mqttUrl, { clientId: 'traced-3' })
    await client.publishAsync('x/y', 'z', { qos: 0 })
    await client.endAsync() // with a DISCONNECT
    // CONNECT shown; CONNACK, PUBLISH and DISCONNECT counted (all within 1.5 s of the CONNECT on a quiet run)
    await t.waitLine(new RegExp(`^${esc(a.nodename)} MQTT RECV: CID: "traced-3" CONNECT\\(`))
    const suppressedLine = new RegExp(`^${esc(a.nodename)} (\\d+) trace lines suppressed: more than 1 per 1500 ms \\(--rate-max, --rate-interval\\)$`)
    await t.waitLine(suppressedLine)
    // on a busy machine the packets may spread over two intervals: each reports its own count
    const accounted = (): number => t.lines.filter(l => l.includes(' MQTT ')).length +
      t.lines.map(l => suppressedLine.exec(l)?.[1]).filter(n => n !== undefined).reduce((sum, n) => sum + Number(n), 0)
    await waitFor(() => accounted() >= 4, 10000, `4 packets shown or counted (so far:\n${t.stdout})`)
    await new Promise(resolve => setTimeout(resolve, 1600)) // a later interval would report more, wrongly
    assert.equal(accounted(), 4, t.stdout)
  })

  it('bad input exits 1 with one line; an unreachable node exits 2', async () => {
    const missing = await a.admin(['trace', 'client'])
    assert.deepEqual([missing.code, missing.stdout, missing.stderr], [1, '', 'You have to provide a client-id (client-id=<id>)\n'])
    const wrongArg = await a.admin(['trace', 'client', 'client=x'])
    assert.deepEqual([wrongArg.code, wrongArg.stderr], [1, 'Invalid argument "client=x": expected client-id=<value>\n'])
    const badRate = await a.admin(['trace', 'client', 'client-id=x', '--rate-max=0'])
    assert.deepEqual([badRate.code, badRate.stderr.split('\n').length], [1, 2])
    assert.match(badRate.stderr, /^Parsing --rate-max Expected an integer greater than or equal to 1 but received: 0/)
    const port = await freePort()
    const down = await vmq(['trace', 'client', 'client-id=x', '--node', `127.0.0.1:${port}`])
    assert.deepEqual([down.code, down.stdout, down.stderr], [2, '', `Node '127.0.0.1:${port}' not responding\n`])
  })
})

function esc (text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

describe('vmq-admin trace client that stops reading', () => {
  let node: TestNode
  before(async () => { node = await startNode({ conf: OPEN_ACCESS }) })
  after(async () => { await node.stop(); node.cleanup() })

  it('never holds the node back: lines beyond the bounded queue are dropped and counted, every packet is either shown or counted', async () => {
    const t = new Trace(node, ['client-id=flood-1', '--rate-max=1000000', '--rate-interval=1000', '--trunc-payload=100'])
    try {
      await t.waitLine('No sessions found for client "flood-1"; waiting for it to connect')
      const client = await connect(node.mqttUrl, { clientId: 'flood-1' })
      await client.subscribeAsync('flood/#', { qos: 0 })
      await t.waitLine(/SUBACK\(m\d+, \[0\]\)$/)
      const stalled = t.pause()
      // 20000 publishes in and 20000 out, ~200 bytes of trace each: far more than the
      // socket buffers and the node's queue of 1000 lines hold
      const payload = 'p'.repeat(1000)
      const received = new Promise<void>(resolve => {
        let n = 0
        client.on('message', () => { if (++n === 20000) resolve() })
      })
      const started = Date.now()
      for (let i = 0; i < 20000; i++) client.publish('flood/t', payload, { qos: 0 })
      await received
      const floodMs = Date.now() - started
      // the node still answers admin calls at once while the trace is stuck
      const status = await node.admin(['node', 'status', '--format=json'])
      assert.equal(status.code, 0, status.stderr)
      await client.endAsync()
      stalled.resume()
      // the node reports the lines it dropped each time the stream drains again
      const droppedLine = /^(\d+) trace lines dropped: the trace was read too slowly$/
      await t.waitLine(droppedLine, 60000)
      const shownCount = (): number => t.lines.filter(l => l.includes(' MQTT ')).length
      const droppedCount = (): number => t.lines.map(l => droppedLine.exec(l)?.[1]).filter(n => n !== undefined).reduce((sum, n) => sum + Number(n), 0)
      // CONNECT, CONNACK, SUBSCRIBE, SUBACK, 20000 PUBLISH in and out, DISCONNECT: each shown or counted
      // (the DISCONNECT line itself is dropped when the node's queue is still full as it comes)
      const total = 2 + 2 + 40000 + 1
      await waitFor(() => shownCount() + droppedCount() === total, 60000, `every packet shown or counted (${shownCount()} shown, ${droppedCount()} dropped)`)
      const shown = shownCount()
      const dropped = droppedCount()
      assert.equal(shown + dropped, total, `${shown} shown, ${dropped} dropped`)
      assert.ok(dropped > 0)
      assert.ok(floodMs < 60000, `flood took ${floodMs} ms`)
    } finally {
      await t.kill()
    }
  })
})

describe('vmq-admin trace client when the node stops', () => {
  it('the node says so, ends the trace and stops at once; the CLI exits 2', async () => {
    const node = await startNode({ conf: OPEN_ACCESS })
    try {
      const t = new Trace(node, ['client-id=any'])
      await t.waitLine('No sessions found for client "any"; waiting for it to connect')
      const started = Date.now()
      assert.equal(await node.stop(), 0)
      assert.ok(Date.now() - started < 5000, `stop took ${Date.now() - started} ms`)
      await t.waitLine(`${node.nodename} trace ended: the node is stopping`)
      await waitFor(() => t.code !== undefined, 10000, 'the CLI to exit')
      assert.deepEqual([t.code, t.stderr], [2, `Node '${node.adminAddress}' ended the call\n`])
    } finally {
      await node.stop()
      node.cleanup()
    }
  })
})

describe('vmq-admin trace client shows authentication and authorization results', () => {
  let node: TestNode
  before(async () => {
    const dir = tempDir()
    const passwd = join(dir, 'vmq.passwd')
    const acl = join(dir, 'vmq.acl')
    const added = await vmq(['passwd', '-c', passwd, 'alice'], { input: 'right\nright\n' })
    assert.equal(added.code, 0, added.stderr)
    writeFileSync(acl, 'user alice\ntopic allowed/#\n')
    node = await startNode({ conf: [`vmq_passwd.password_file = ${passwd}`, `vmq_acl.acl_file = ${acl}`] })
  })
  after(async () => { await node.stop(); node.cleanup() })

  it('a refused login in its CONNACK, a refused subscription in its SUBACK', async () => {
    const t = new Trace(node, ['client-id=auth-1', '--rate-max=1000'])
    try {
      await t.waitLine('No sessions found for client "auth-1"; waiting for it to connect')
      assert.equal(await connackCode(node.mqttUrl, { clientId: 'auth-1', username: 'alice', password: 'wrong' }), 4)
      const at = `${node.nodename} MQTT`
      await t.waitLine(`${at} SEND: CID: "auth-1" CONNACK(sp: 0, rc: 4 bad_username_or_password)`)
      const client = await connect(node.mqttUrl, { clientId: 'auth-1', username: 'alice', password: 'right' })
      await t.waitLine(`${at} SEND: CID: "auth-1" CONNACK(sp: 0, rc: 0 success)`)
      assert.deepEqual(await grantedCodes(client, { 'allowed/x': { qos: 1 } }), [1])
      assert.deepEqual(await grantedCodes(client, { 'secret/x': { qos: 1 } }), [128])
      await t.waitLine(/SEND: CID: "auth-1" SUBACK\(m\d+, \[1\]\)$/)
      await t.waitLine(/SEND: CID: "auth-1" SUBACK\(m\d+, \[0x80\]\)$/)
      await endAll(client)
    } finally {
      await t.kill()
    }
  })
})
