// A raw MQTT 5 client over a socket: every packet the broker sends is kept as
// parsed (properties included), and packets MQTT.js hides or will not send
// (AUTH, out-of-range topic aliases, PUBLISHes without PUBREL) can be sent.
import { connect as netConnect, type Socket } from 'node:net'
import mqttPacket, { type IConnackPacket, type Packet } from 'mqtt-packet'

export class RawClient5 {
  readonly packets: Packet[] = []
  closed = false
  private constructor (readonly socket: Socket) {
    const parser = mqttPacket.parser({ protocolVersion: 5 })
    parser.on('packet', p => this.packets.push(p))
    socket.on('data', d => parser.parse(d))
    socket.on('close', () => { this.closed = true })
    socket.on('error', () => {})
  }

  /** Connects and sends a v5 CONNECT (clean start, keepalive 60, then `extra`). */
  static async open (port: number, clientId: string, extra: Record<string, unknown> = {}): Promise<RawClient5> {
    const client = await RawClient5.socket(port)
    client.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true, clientId, keepalive: 60, ...extra } as Packet)
    return client
  }

  /** Like open, and waits for the CONNACK. */
  static async connect (port: number, clientId: string, extra: Record<string, unknown> = {}): Promise<{ raw: RawClient5, connack: IConnackPacket }> {
    const raw = await RawClient5.open(port, clientId, extra)
    return { raw, connack: await raw.next('connack') as IConnackPacket }
  }

  private static async socket (port: number): Promise<RawClient5> {
    const socket = netConnect(port, '127.0.0.1')
    await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
    return new RawClient5(socket)
  }

  send (packet: Packet): void {
    this.socket.write(mqttPacket.generate(packet, { protocolVersion: 5 }))
  }

  writeBytes (bytes: Buffer): void {
    this.socket.write(bytes)
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

  received (cmd: string): Packet[] {
    return this.packets.filter(p => p.cmd === cmd)
  }

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
