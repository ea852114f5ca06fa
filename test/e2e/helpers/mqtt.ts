import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import type { IPublishPacket } from 'mqtt-packet'

/**
 * Connects with MQTT.js; resolves when CONNACK accepted, rejects with the refusal.
 * Messages are collected from the start (see `collect`): a resumed session's
 * queued messages can arrive in the same read as the CONNACK, before the caller
 * could attach a listener.
 */
export async function connect (url: string, opts: IClientOptions = {}): Promise<MqttClient> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...opts })
  collect(client)
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve())
    client.once('error', err => { client.end(true); reject(err) })
    client.once('close', () => reject(new Error('connection closed before CONNACK')))
  })
  return client
}

/** The CONNACK return code a refused connection got (or 'closed'). */
export async function connackCode (url: string, opts: IClientOptions = {}): Promise<number | 'closed' | 0> {
  try {
    const c = await connect(url, opts)
    c.end(true)
    return 0
  } catch (err) {
    const code = (err as { code?: number }).code
    return typeof code === 'number' ? code : 'closed'
  }
}

export interface Received { topic: string, payload: string, qos: number, retain: boolean }

const collected = new WeakMap<MqttClient, { received: Received[], packets: IPublishPacket[] }>()

function collecting (client: MqttClient): { received: Received[], packets: IPublishPacket[] } {
  let got = collected.get(client)
  if (got === undefined) {
    const lists = { received: [] as Received[], packets: [] as IPublishPacket[] }
    client.on('message', (topic, payload, packet) => {
      lists.received.push({ topic, payload: payload.toString(), qos: packet.qos, retain: packet.retain })
      lists.packets.push(packet)
    })
    collected.set(client, got = lists)
  }
  return got
}

/** The messages that arrived at a client (the same list on every call). */
export function collect (client: MqttClient): Received[] {
  return collecting(client).received
}

/** The PUBLISH packets that arrived at a client, properties included (the same list on every call). */
export function publishPackets (client: MqttClient): IPublishPacket[] {
  return collecting(client).packets
}

export async function endAll (...clients: Array<MqttClient | undefined>): Promise<void> {
  await Promise.all(clients.map(async c => { if (c !== undefined) await c.endAsync(true) }))
}

/**
 * The SUBACK return codes of one SUBSCRIBE (the granted QoS, or 128 when refused).
 * MQTT.js rejects a SUBACK with failure codes; the packet travels on the error.
 */
export async function grantedCodes (client: MqttClient, topics: Record<string, { qos: 0 | 1 | 2 }>): Promise<number[]> {
  try {
    return (await client.subscribeAsync(topics)).map(g => g.qos)
  } catch (err) {
    const granted = (err as { packet?: { granted?: number[] } }).packet?.granted
    if (granted === undefined) throw err
    return granted
  }
}

/** The SUBACK return code of a one-filter SUBSCRIBE. */
export async function grantedQos (client: MqttClient, topic: string, qos: 0 | 1 | 2 = 0): Promise<number> {
  return (await grantedCodes(client, { [topic]: { qos } }))[0]
}
