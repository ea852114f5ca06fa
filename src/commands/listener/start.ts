import { Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/base.js'
import { listenerAddress, listenerOptionFlags, listenerOptions } from '../../cli/listener.js'
import { formatFlag, textOutput } from '../../cli/output.js'
import { callNode, resolveTarget, targetFlags } from '../../cli/target.js'
import { kvUsage } from '../../cli/usage.js'

const USAGE = 'listener start address=<ip> port=<port> [--websocket | --http] [--ssl --certfile=... --keyfile=...] [--mountpoint=...] [--max_connections=...]'

export default class ListenerStart extends BaseCommand {
  static description = 'Start a new MQTT listener on a running node (not kept across restarts)'
  static examples = [
    '<%= config.bin %> listener start address=127.0.0.1 port=1884 --mountpoint=site1 --max_connections=100',
    '<%= config.bin %> listener start address=127.0.0.1 port=8884 --ssl --certfile=server.pem --keyfile=server.key',
    '<%= config.bin %> listener start address=127.0.0.1 port=8888 --http'
  ]

  static strict = false
  static flags = {
    ...targetFlags,
    format: formatFlag,
    websocket: Flags.boolean({ description: 'MQTT over WebSocket (path /mqtt)' }),
    ssl: Flags.boolean({ description: 'TLS; with --websocket: WebSocket over TLS' }),
    http: Flags.boolean({ description: 'HTTP listener (/metrics, /health, /status); with --ssl: HTTPS' }),
    ...listenerOptionFlags
  }
  static usage = kvUsage('address=<ip> port=<port>', this.flags)

  async run (): Promise<void> {
    const { argv, flags } = await this.parse(ListenerStart)
    const request = { ...listenerAddress(argv as string[], USAGE), websocket: flags.websocket, ssl: flags.ssl, http: flags.http, options: listenerOptions(flags) }
    const reply = await callNode<typeof request, { text: string }>(resolveTarget(flags), 'ListenerStart', request)
    process.stdout.write(textOutput(flags.format, reply.text))
  }
}
