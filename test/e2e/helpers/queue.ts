// Clients and checks shared by the queue tests (test/e2e/queue-*.test.ts):
// raw subscribers that withhold acknowledgements, and what they received.
import assert from 'node:assert/strict'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import type { IPublishPacket, IConnackPacket, ISubackPacket } from 'mqtt-packet'
import { collect, type Received } from './mqtt.js'
import { waitFor, type TestNode } from './processes.js'
import { RawClient } from './raw.js'

/** How long we watch for something that must NOT happen. */
export const QUIET_MS = 600

export async function pause (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}

export async function rawConnect (node: TestNode, clientId: string, extra: Record<string, unknown> = {}): Promise<{ raw: RawClient, connack: IConnackPacket }> {
  const raw = await RawClient.open(node.mqttPort, clientId, extra)
  const connack = await raw.next('connack') as IConnackPacket
  return { raw, connack }
}

export async function rawSubscriber (node: TestNode, clientId: string, topic: string, qos: 0 | 1 | 2, extra: Record<string, unknown> = {}): Promise<RawClient> {
  const { raw, connack } = await rawConnect(node, clientId, extra)
  assert.equal(connack.returnCode, 0)
  raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos }] })
  const suback = await raw.next('suback') as ISubackPacket
  assert.deepEqual(suback.granted, [qos])
  return raw
}

export function publishes (raw: RawClient): IPublishPacket[] {
  return raw.received('publish') as IPublishPacket[]
}

/** PUBLISHes received for the first time (no retries). */
export function fresh (raw: RawClient): IPublishPacket[] {
  return publishes(raw).filter(p => !p.dup)
}

export async function waitFresh (raw: RawClient, n: number, timeoutMs = 5000): Promise<IPublishPacket[]> {
  await waitFor(() => fresh(raw).length >= n, timeoutMs, `${n} messages (got ${fresh(raw).length})`)
  return fresh(raw)
}

/** Acknowledges every QoS 1 message as it arrives until `n` messages came. */
export async function ackUntil (raw: RawClient, n: number, timeoutMs = 5000): Promise<void> {
  const acked = new Set<IPublishPacket>()
  await waitFor(() => {
    for (const p of fresh(raw)) {
      if (p.qos === 1 && !acked.has(p)) {
        raw.send({ cmd: 'puback', messageId: p.messageId })
        acked.add(p)
      }
    }
    return fresh(raw).length >= n
  }, timeoutMs, `${n} messages (got ${fresh(raw).length})`)
}

export function payloads (packets: IPublishPacket[]): string[] {
  return packets.map(p => p.payload.toString())
}

/** The node's log (stdout, where log.console = console sends it). */
export function consoleLog (node: TestNode): string {
  return node.stdout
}

export function count (text: string, needle: string): number {
  return text.split(needle).length - 1
}

/** Connects with MQTT.js, collecting messages from the first one on. */
export async function connectCollecting (url: string, opts: IClientOptions): Promise<{ client: MqttClient, got: Received[], sessionPresent: boolean }> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...opts })
  const got = collect(client)
  const connack = await new Promise<IConnackPacket>((resolve, reject) => {
    client.once('connect', resolve)
    client.once('error', err => { client.end(true); reject(err) })
  })
  return { client, got, sessionPresent: connack.sessionPresent }
}
