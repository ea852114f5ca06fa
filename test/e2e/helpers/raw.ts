// A raw MQTT client over a socket (3.1.1 by default, or 5), for packets MQTT.js
// refuses to send or hides: every packet the broker sends is kept as parsed.
import { connect as netConnect, type Socket } from 'node:net'
import mqttPacket, { type Packet } from 'mqtt-packet'

/** Packets encoded back to back (3.1.1 unless `protocolVersion` says otherwise), to be sent in one write. */
export function packetBytes (packets: object[], protocolVersion = 4): Buffer {
  return Buffer.concat(packets.map(p => mqttPacket.generate(p as Packet, { protocolVersion })))
}

export class RawClient {
  readonly packets: Packet[] = []
  closed = false
  protected constructor (readonly socket: Socket, readonly protocolVersion = 4) {
    const parser = mqttPacket.parser({ protocolVersion })
    parser.on('packet', p => this.packets.push(p))
    socket.on('data', d => parser.parse(d))
    socket.on('close', () => { this.closed = true })
    socket.on('error', () => {})
  }

  /** A connected socket to the broker on `port` (loopback). */
  protected static async socket (port: number): Promise<Socket> {
    const socket = netConnect(port, '127.0.0.1')
    await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
    return socket
  }

  /** A raw client over a socket the caller opened (and sends the CONNECT on). */
  static wrap (socket: Socket, protocolVersion = 4): RawClient {
    return new RawClient(socket, protocolVersion)
  }

  /** Connects and sends a 3.1.1 CONNECT (clean session, keepalive 60, then `extra`). */
  static async open (port: number, clientId = `raw${Math.floor(Math.random() * 1e6)}`, extra: Record<string, unknown> = {}): Promise<RawClient> {
    const client = new RawClient(await RawClient.socket(port))
    client.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId, keepalive: 60, ...extra } as Packet)
    return client
  }

  /** Opens a connection whose CONNECT is given as bytes (for CONNECTs mqtt-packet refuses to encode). */
  static async openWithBytes (port: number, connect: Buffer, protocolVersion = 4): Promise<RawClient> {
    const client = new RawClient(await RawClient.socket(port), protocolVersion)
    client.sendBytes(connect)
    return client
  }

  sendBytes (bytes: Buffer): void {
    this.socket.write(bytes)
  }

  send (packet: Packet): void {
    this.socket.write(mqttPacket.generate(packet, { protocolVersion: this.protocolVersion }))
  }

  async next (cmd: string, timeoutMs = 5000): Promise<Packet> {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      const index = this.packets.findIndex(p => p.cmd === cmd)
      if (index >= 0) return this.packets.splice(index, 1)[0]
      if (this.closed) throw new Error(`connection closed while waiting for ${cmd} (got ${this.packets.map(p => p.cmd).join(', ')})`)
      await new Promise(resolve => setTimeout(resolve, 10))
    }
    throw new Error(`no ${cmd} within ${timeoutMs} ms`)
  }

  /** Packets of one kind received so far (left in place). */
  received (cmd: string): Packet[] {
    return this.packets.filter(p => p.cmd === cmd)
  }

  /** Waits until `count` packets of one kind have arrived; returns them (left in place). */
  async waitCount (cmd: string, count: number, timeoutMs = 5000): Promise<Packet[]> {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      const got = this.received(cmd)
      if (got.length >= count) return got
      if (this.closed) throw new Error(`connection closed with ${got.length} of ${count} ${cmd}`)
      await new Promise(resolve => setTimeout(resolve, 10))
    }
    throw new Error(`${this.received(cmd).length} of ${count} ${cmd} within ${timeoutMs} ms`)
  }

  /** Resolves when the broker has closed the connection. */
  async waitClosed (timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error(`connection still open after ${timeoutMs} ms`)
      await new Promise(resolve => setTimeout(resolve, 10))
    }
  }

  close (): void {
    this.socket.destroy()
  }
}
