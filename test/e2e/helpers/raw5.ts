// The raw client speaking MQTT 5: packets MQTT.js hides or will not send (AUTH,
// out-of-range topic aliases, PUBLISHes without PUBREL), properties included.
import assert from 'node:assert/strict'
import type { Socket } from 'node:net'
import type { IConnackPacket, Packet } from 'mqtt-packet'
import { RawClient } from './raw.js'

export class RawClient5 extends RawClient {
  private constructor (socket: Socket) {
    super(socket, 5)
  }

  /** Connects and sends a v5 CONNECT (clean start, keepalive 60, then `extra`). */
  static async open (port: number, clientId: string, extra: Record<string, unknown> = {}): Promise<RawClient5> {
    const client = new RawClient5(await RawClient.socket(port))
    client.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true, clientId, keepalive: 60, ...extra } as Packet)
    return client
  }

  /** Like open, and waits for the CONNACK. */
  static async connect (port: number, clientId: string, extra: Record<string, unknown> = {}): Promise<{ raw: RawClient5, connack: IConnackPacket }> {
    const raw = await RawClient5.open(port, clientId, extra)
    return { raw, connack: await raw.next('connack') as IConnackPacket }
  }

  /** Like connect with CONNECT `properties`, asserting the CONNACK accepts. */
  static async ready (port: number, clientId: string, properties: Record<string, unknown> = {}): Promise<RawClient5> {
    const { raw, connack } = await RawClient5.connect(port, clientId, { properties })
    assert.equal(connack.reasonCode, 0)
    return raw
  }

  writeBytes (bytes: Buffer): void {
    this.sendBytes(bytes)
  }

  /** SUBSCRIBE one filter, asserting the SUBACK grants `qos`. */
  async subscribe (topic: string, qos: 0 | 1 | 2, properties?: Record<string, unknown>): Promise<void> {
    this.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos }], ...(properties !== undefined ? { properties } : {}) } as Packet)
    const suback = await this.next('suback') as { granted: number[] }
    assert.deepEqual(suback.granted, [qos])
  }
}
