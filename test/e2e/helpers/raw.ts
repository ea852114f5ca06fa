// A raw MQTT 3.1.1 client over a socket, for packets MQTT.js refuses to send.
import { connect as netConnect, type Socket } from 'node:net'
import mqttPacket, { type Packet } from 'mqtt-packet'

export class RawClient {
  readonly packets: Packet[] = []
  closed = false
  private constructor (readonly socket: Socket) {
    const parser = mqttPacket.parser({ protocolVersion: 4 })
    parser.on('packet', p => this.packets.push(p))
    socket.on('data', d => parser.parse(d))
    socket.on('close', () => { this.closed = true })
    socket.on('error', () => {})
  }

  static async open (port: number, clientId = `raw${Math.floor(Math.random() * 1e6)}`, extra: Record<string, unknown> = {}): Promise<RawClient> {
    const socket = netConnect(port, '127.0.0.1')
    await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
    const client = new RawClient(socket)
    client.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId, keepalive: 60, ...extra } as Packet)
    return client
  }

  send (packet: Packet): void {
    this.socket.write(mqttPacket.generate(packet))
  }

  async next (cmd: string, timeoutMs = 5000): Promise<Packet> {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      const index = this.packets.findIndex(p => p.cmd === cmd)
      if (index >= 0) return this.packets.splice(index, 1)[0]
      if (this.closed) throw new Error(`connection closed while waiting for ${cmd}`)
      await new Promise(resolve => setTimeout(resolve, 10))
    }
    throw new Error(`no ${cmd} within ${timeoutMs} ms`)
  }

  close (): void {
    this.socket.destroy()
  }
}
