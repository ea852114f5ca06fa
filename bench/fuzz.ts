// Malformed-input fuzzing of one `vmq start` node on loopback, repeatable with a
// seed. Each session opens a connection (tcp or ws), sends a CONNECT (3.1.1 or
// 5, valid or mutated) and a burst of generated packets (valid ones, mutated
// ones and random bytes), then waits for the node to close it. The oracle
// (fuzz-oracle.ts) says beforehand whether the bytes break the protocol; the
// report counts, per protocol and transport, bad sessions closed and left open
// (with hex dumps and the rule), valid ones left open and closed, and for MQTT 5
// whether the CONNACK/DISCONNECT before the close carried an allowed reason.
// Meanwhile a well-behaved MQTT.js client keeps QoS 1 round trips going. The run
// fails when the node exits, a round trip fails, a bad session stays open, a v5
// reason is wrong or missing, or RSS after the run (and a settle) stays more than
// --rss-slack above its start.
//
//   node dist/bench/fuzz.js [--seed 1] [--packets 100000] [--concurrency 16]
//                           [--transports tcp,ws] [--protocols 4,5] [--rss-slack 0.10]
// Prints one JSON line; exit code 0 when the node held, 1 when not.
import { connect as netConnect } from 'node:net'
import { parseArgs } from 'node:util'
import mqtt from 'mqtt'
import mqttPacket from 'mqtt-packet'
import WebSocket from 'ws'
import { int, pick, rng, type Rng } from '../test/helpers/rng.js'
import { readVarint } from '../src/mqtt/property-scan.js'
import { judge, type Verdict } from './fuzz-oracle.js'
import { startVmqNode, type VmqNode } from './vmq-node.js'

// non-empty: mqtt-packet refuses to encode an empty will topic (as an error event, not a throw); mutations make empty ones
const TOPICS = ['a', 'a/b', 'fz/r', '$SYS/x', '$share/g/a', 'a/+', 'a/#', '#', '+/+', 'x'.repeat(300), 'é/ü', 'a//b']
const PROPERTY_SETS: ReadonlyArray<Record<string, unknown>> = [
  {},
  { userProperties: { k: 'v', z: ['1', '2'] } },
  { contentType: 'text/plain', payloadFormatIndicator: true },
  { responseTopic: 'r/t', correlationData: Buffer.from([1, 2, 3]) },
  { messageExpiryInterval: 1 },
  { topicAlias: 1 },
  { subscriptionIdentifier: 7 }
]

/** A valid packet of a random kind for `version` (mqtt-packet encodes it). */
function validPacket (r: Rng, version: 4 | 5): Buffer {
  const qos = int(r, 3) as 0 | 1 | 2
  const messageId = 1 + int(r, 65535)
  const properties = version === 5 ? pick(r, PROPERTY_SETS) : undefined
  const packets: mqttPacket.Packet[] = [
    { cmd: 'publish', topic: pick(r, TOPICS), payload: Buffer.alloc(int(r, 200), int(r, 256)), qos, retain: r() < 0.2, dup: false, messageId: qos > 0 ? messageId : undefined, properties } as mqttPacket.IPublishPacket,
    { cmd: 'subscribe', messageId, subscriptions: [{ topic: pick(r, TOPICS), qos, nl: r() < 0.2, rap: r() < 0.2, rh: int(r, 3) }], properties } as mqttPacket.ISubscribePacket,
    { cmd: 'unsubscribe', messageId, unsubscriptions: [pick(r, TOPICS)] },
    { cmd: 'puback', messageId },
    { cmd: 'pubrec', messageId },
    { cmd: 'pubrel', messageId },
    { cmd: 'pubcomp', messageId },
    { cmd: 'pingreq' },
    { cmd: 'disconnect' },
    { cmd: 'auth', reasonCode: 0x18 } as mqttPacket.Packet
  ]
  try {
    return mqttPacket.generate(pick(r, packets), { protocolVersion: version })
  } catch {
    return mqttPacket.generate({ cmd: 'pingreq' })
  }
}

function connectPacket (r: Rng, version: 4 | 5, clientId: string): Buffer {
  const will = r() < 0.3 ? { topic: pick(r, TOPICS), payload: Buffer.from('w'), qos: int(r, 3) as 0 | 1 | 2, retain: r() < 0.5, properties: version === 5 ? { willDelayInterval: int(r, 3) } : undefined } : undefined
  const properties = version === 5 ? pick(r, [{}, { sessionExpiryInterval: int(r, 5) }, { receiveMaximum: 1 + int(r, 10) }, { topicAliasMaximum: 5 }, { maximumPacketSize: 64 + int(r, 512) }]) : undefined
  return mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: version, clientId, clean: r() < 0.7, keepalive: int(r, 60), will, properties } as mqttPacket.IConnectPacket)
}

/** A copy of `packet` with one of a few kinds of damage. */
function mutate (r: Rng, packet: Buffer): Buffer {
  const out = Buffer.from(packet)
  switch (int(r, 7)) {
    case 0: // flip bytes
      for (let i = 0, n = 1 + int(r, 4); i < n; i++) out[int(r, out.length)] ^= 1 << int(r, 8)
      return out
    case 1: // cut short, keeping the announced length
      return out.subarray(0, Math.max(1, int(r, out.length)))
    case 2: // announce another length
      if (out.length > 1) out[1] = int(r, 256)
      return out
    case 3: // another type or flags
      out[0] = int(r, 256)
      return out
    case 4: { // insert random bytes in the body
      const at = 2 + int(r, Math.max(1, out.length - 2))
      return Buffer.concat([out.subarray(0, at), randomBytes(r, 1 + int(r, 8)), out.subarray(at)])
    }
    case 5: // overwrite a byte with 0x00 / 0xff (string lengths, U+0000, bad UTF-8)
      out[int(r, out.length)] = r() < 0.5 ? 0 : 0xff
      return out
    default: // repeat a slice of the body (duplicated properties and fields)
      return Buffer.concat([out, out.subarray(2 + int(r, Math.max(1, out.length - 2)))])
  }
}

function randomBytes (r: Rng, n: number): Buffer {
  const out = Buffer.allocUnsafe(n)
  for (let i = 0; i < n; i++) out[i] = int(r, 256)
  return out
}

/** The bytes of one session: a CONNECT, then 1-20 packets. */
function sessionBytes (r: Rng, version: 4 | 5, clientId: string): Buffer[] {
  const connect = connectPacket(r, version, clientId)
  const out = [r() < 0.8 ? connect : mutate(r, connect)]
  for (let i = 0, n = 1 + int(r, 20); i < n; i++) {
    const kind = r()
    if (kind < 0.35) out.push(validPacket(r, version))
    else if (kind < 0.9) out.push(mutate(r, validPacket(r, version)))
    else out.push(randomBytes(r, 1 + int(r, 64)))
  }
  return out
}

interface Link { send: (b: Buffer) => void, closed: Promise<boolean>, received: () => Buffer, destroy: () => void }

/** A connection; `closed` resolves true when the node closed it; `received` is what the node sent. */
async function open (transport: 'tcp' | 'ws', node: VmqNode): Promise<Link> {
  const chunks: Buffer[] = []
  const received = (): Buffer => Buffer.concat(chunks)
  if (transport === 'tcp') {
    const socket = netConnect(node.port, '127.0.0.1')
    socket.on('error', () => {})
    socket.on('data', (d: Buffer) => { chunks.push(d) })
    await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
    let mine = false
    return {
      send: b => { if (!socket.destroyed) socket.write(b) },
      closed: new Promise(resolve => socket.once('close', () => resolve(!mine))),
      received,
      destroy: () => { mine = true; socket.destroy() }
    }
  }
  const ws = new WebSocket(`ws://127.0.0.1:${node.wsPort}/mqtt`, 'mqtt')
  ws.on('error', () => {})
  ws.on('message', (d: Buffer) => { chunks.push(Buffer.from(d)) })
  await new Promise<void>((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
  let mine = false
  return {
    send: b => { if (ws.readyState === WebSocket.OPEN) ws.send(b) },
    closed: new Promise(resolve => ws.once('close', () => resolve(!mine))),
    received,
    destroy: () => { mine = true; ws.terminate() }
  }
}

/** How long a session the oracle calls valid waits for the node to close it anyway (a wrong close). */
const VALID_WAIT_MS = 200
/** How long a session that must be closed waits for the node to close it (a v5 one refused during its CONNECT waits for the CONNACK first). */
const BAD_WAIT_MS = 12_000

/** One generated session: its bytes and what the oracle says they require. */
interface Session { index: number, transport: 'tcp' | 'ws', protocol: 4 | 5, clientId: string, packets: Buffer[], verdict: Verdict }

/**
 * The sessions of a run: session `index` has its own generator, seeded from
 * the run's seed and its index, so its bytes do not depend on timing.
 */
export function generateSessions (opts: Pick<FuzzOptions, 'seed' | 'packets' | 'transports' | 'protocols'>): Session[] {
  const sessions: Session[] = []
  for (let index = 0, packets = 0; packets < opts.packets; index++) {
    const transport = opts.transports[index % opts.transports.length]
    const protocol = opts.protocols[Math.floor(index / opts.transports.length) % opts.protocols.length]
    const clientId = `fz${index % 50}`
    const bytes = sessionBytes(rng((opts.seed * 1_000_003 + index) >>> 0), protocol, clientId)
    sessions.push({ index, transport, protocol, clientId, packets: bytes, verdict: judge(Buffer.concat(bytes)) })
    packets += bytes.length
  }
  return sessions
}

/** The tally of one protocol and transport. */
interface Group {
  sessions: number
  badClosed: number
  badOpen: number
  validOpen: number
  validClosed: number
  endsClosed: number
  endsOpen: number
  /** v5 sessions that broke a rule: the node's reply (CONNACK/DISCONNECT reason) before the close */
  replyRight: number
  replyWrong: number
  replyMissing: number
  /** bad-but-open sessions by rule */
  openRules: Record<string, number>
  /** v5 wrong or missing replies by rule and what came */
  wrongReplies: Record<string, number>
  badOpenExamples: Array<{ index: number, rule: string, frame: number, hex: string }>
  validClosedExamples: Array<{ index: number, hex: string, reply: string }>
  replyExamples: Array<{ index: number, rule: string, expected: string, got: string, hex: string, receivedHex: string }>
}

const EXAMPLES = 5
const HEX_BYTES = 160

function newGroup (): Group {
  return { sessions: 0, badClosed: 0, badOpen: 0, validOpen: 0, validClosed: 0, endsClosed: 0, endsOpen: 0, replyRight: 0, replyWrong: 0, replyMissing: 0, openRules: {}, wrongReplies: {}, badOpenExamples: [], validClosedExamples: [], replyExamples: [] }
}

interface Tally { packets: number, sessions: number, closedByNode: number, leftOpen: number, openFailed: number, groups: Record<string, Group> }

/** A rule's text without the values in it, to count alike problems together. */
function ruleKey (rule: string): string {
  return rule.replace(/"[^"]*"|0x[0-9a-f]+|\b\d+\b/g, '_')
}

/** The node's CONNACK or DISCONNECT in `bytes`, as `cmd 0xNN`, or 'none'. */
function replyOf (bytes: Buffer, protocolVersion: number): string {
  const parser = mqttPacket.parser({ protocolVersion })
  let reply = 'none'
  parser.on('packet', (p: mqttPacket.Packet) => {
    if (p.cmd === 'disconnect' || (p.cmd === 'connack' && (p.reasonCode ?? p.returnCode ?? 0) !== 0)) {
      reply = `${p.cmd} 0x${((p as { reasonCode?: number, returnCode?: number }).reasonCode ?? (p as { returnCode?: number }).returnCode ?? 0).toString(16)}`
    }
  })
  parser.on('error', () => {})
  parser.parse(bytes)
  return reply
}

/** The protocol level the session's CONNECT names (5 or not). */
function levelOf (session: Session): number {
  const connect = session.packets[0]
  const body = readVarint(connect, 1)?.next
  return body !== undefined && connect.length > body + 6 ? connect[body + 6] & 0x7f : session.protocol
}

function record (tally: Tally, session: Session, closedByNode: boolean, received: Buffer): void {
  const key = `${session.protocol === 5 ? 'v5' : 'v3.1.1'}/${session.transport}`
  const g = (tally.groups[key] ??= newGroup())
  g.sessions++
  const v = session.verdict
  const hex = (): string => Buffer.concat(session.packets).subarray(0, HEX_BYTES).toString('hex')
  const reply = replyOf(received, levelOf(session) === 5 ? 5 : 4)
  if (v.kind === 'valid') {
    if (closedByNode) {
      g.validClosed++
      if (g.validClosedExamples.length < EXAMPLES) g.validClosedExamples.push({ index: session.index, hex: hex(), reply })
    } else g.validOpen++
    return
  }
  if (v.kind === 'ends') {
    if (closedByNode) g.endsClosed++
    else g.endsOpen++
    return
  }
  if (closedByNode) g.badClosed++
  else {
    g.badOpen++
    const k = ruleKey(v.rule)
    g.openRules[k] = (g.openRules[k] ?? 0) + 1
    if (g.badOpenExamples.length < EXAMPLES) g.badOpenExamples.push({ index: session.index, rule: v.rule, frame: v.frame, hex: hex() })
  }
  if (v.reply === 'none' || levelOf(session) !== 5) return
  const expected = `${v.reply} ${v.codes.map(c => '0x' + c.toString(16)).join('|')}`
  const right = v.codes.some(c => reply === `${v.reply} 0x${c.toString(16)}`)
  if (right) g.replyRight++
  else if (reply === 'none') g.replyMissing++
  else g.replyWrong++
  if (!right) {
    const k = `${ruleKey(v.rule)}: expected ${expected}, got ${reply}`
    g.wrongReplies[k] = (g.wrongReplies[k] ?? 0) + 1
    if (g.replyExamples.length < EXAMPLES) g.replyExamples.push({ index: session.index, rule: v.rule, expected, got: reply, hex: hex(), receivedHex: received.subarray(0, HEX_BYTES).toString('hex') })
  }
}

async function runSession (node: VmqNode, session: Session, tally: Tally): Promise<void> {
  let link: Link
  try {
    link = await open(session.transport, node)
  } catch {
    tally.openFailed++
    return
  }
  for (const b of session.packets) link.send(b)
  tally.packets += session.packets.length
  tally.sessions++
  const wait = session.verdict.kind === 'valid' ? VALID_WAIT_MS : BAD_WAIT_MS
  const byNode = await Promise.race([link.closed, new Promise<undefined>(resolve => setTimeout(resolve, wait))])
  if (byNode === true) tally.closedByNode++
  else tally.leftOpen++
  record(tally, session, byNode === true, link.received())
  link.destroy()
}

/** QoS 1 round trips on a topic no fuzz session uses; counts failures. */
async function canary (node: VmqNode, stop: () => boolean): Promise<{ roundTrips: number, failures: number, maxMs: number }> {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${node.port}`, { clientId: 'fuzz-canary', reconnectPeriod: 0, connectTimeout: 5000 })
  await client.subscribeAsync('fuzz-canary/echo', { qos: 1 })
  let roundTrips = 0
  let failures = 0
  let maxMs = 0
  while (!stop()) {
    const started = Date.now()
    const payload = String(roundTrips)
    const arrived = new Promise<boolean>(resolve => {
      const timer = setTimeout(() => { client.removeListener('message', onMessage); resolve(false) }, 5000)
      function onMessage (_topic: string, message: Buffer): void {
        if (message.toString() !== payload) return
        clearTimeout(timer)
        client.removeListener('message', onMessage)
        resolve(true)
      }
      client.on('message', onMessage)
    })
    try {
      await client.publishAsync('fuzz-canary/echo', payload, { qos: 1 })
      if (await arrived) roundTrips++
      else failures++
    } catch {
      failures++
    }
    maxMs = Math.max(maxMs, Date.now() - started)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  await client.endAsync()
  return { roundTrips, failures, maxMs }
}

/**
 * Waits (bounded) for RSS to come back within `limitKb`: what the run left
 * behind (closed sessions, their timers and buffers) is freed over tens of
 * seconds, not at once. Returns the last reading and how long it took.
 */
async function settledRss (node: VmqNode, limitKb: number, ms: number): Promise<{ rssKb: number, settleMs: number }> {
  const started = Date.now()
  let rss = node.rssKb()
  while (rss > limitKb && Date.now() - started < ms) {
    await new Promise(resolve => setTimeout(resolve, 500))
    rss = node.rssKb()
  }
  return { rssKb: rss, settleMs: Date.now() - started }
}

/** How long RSS may take to come back after the run */
const SETTLE_MS = 90_000

export interface FuzzOptions { seed: number, packets: number, concurrency: number, transports: Array<'tcp' | 'ws'>, protocols: Array<4 | 5>, rssSlack: number }

export async function fuzz (opts: FuzzOptions): Promise<Record<string, unknown>> {
  const node = await startVmqNode()
  try {
    const sessions = generateSessions(opts)
    const tally: Tally = { packets: 0, sessions: 0, closedByNode: 0, leftOpen: 0, openFailed: 0, groups: {} }
    let done = false
    const canaryRun = canary(node, () => done)
    // a few warm-up round trips before the baseline, so the baseline includes a served client
    await new Promise(resolve => setTimeout(resolve, 500))
    const rssStart = node.rssKb()
    const started = Date.now()
    let next = 0
    // no two live sessions share a client id (a takeover would close the other one)
    const busy = new Map<string, Promise<void>>()
    const worker = async (): Promise<void> => {
      while (next < sessions.length && node.exitCode() === undefined) {
        const session = sessions[next++]
        while (busy.has(session.clientId)) await busy.get(session.clientId)
        const run = runSession(node, session, tally)
        busy.set(session.clientId, run)
        await run
        busy.delete(session.clientId)
      }
    }
    await Promise.all(Array.from({ length: opts.concurrency }, worker))
    done = true
    const seconds = (Date.now() - started) / 1000
    const exit = node.exitCode()
    const rtt = await canaryRun.catch(() => ({ roundTrips: 0, failures: 1, maxMs: 0 }))
    const rssPeak = node.rssKb()
    const limitKb = rssStart * (1 + opts.rssSlack)
    const settled = exit === undefined ? await settledRss(node, limitKb, SETTLE_MS) : { rssKb: 0, settleMs: 0 }
    const groups = Object.values(tally.groups)
    const badOpen = groups.reduce((n, g) => n + g.badOpen, 0)
    const replyWrong = groups.reduce((n, g) => n + g.replyWrong + g.replyMissing, 0)
    const held = exit === undefined && rtt.failures === 0 && rtt.roundTrips > 0 && settled.rssKb <= limitKb && badOpen === 0 && replyWrong === 0
    return { bench: 'fuzz', held, seed: opts.seed, badOpen, replyWrong, ...tally, seconds, nodeExit: exit ?? null, canary: rtt, rssStartKb: rssStart, rssAfterRunKb: rssPeak, rssSettledKb: settled.rssKb, settleMs: settled.settleMs }
  } finally {
    await node.stop()
  }
}

async function main (): Promise<void> {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string', default: '1' },
      packets: { type: 'string', default: '100000' },
      concurrency: { type: 'string', default: '16' },
      transports: { type: 'string', default: 'tcp,ws' },
      protocols: { type: 'string', default: '4,5' },
      'rss-slack': { type: 'string', default: '0.10' }
    }
  })
  const result = await fuzz({
    seed: Number(values.seed),
    packets: Number(values.packets),
    concurrency: Number(values.concurrency),
    transports: (values.transports ?? '').split(',') as Array<'tcp' | 'ws'>,
    protocols: (values.protocols ?? '').split(',').map(Number) as Array<4 | 5>,
    rssSlack: Number(values['rss-slack'])
  })
  console.log(JSON.stringify(result))
  process.exitCode = result.held === true ? 0 : 1
}

if (process.argv[1]?.endsWith('fuzz.js') === true) await main()
