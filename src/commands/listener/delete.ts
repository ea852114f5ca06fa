import { BaseCommand } from '../../cli/base.js'
import { listenerAddress } from '../../cli/listener.js'
import { formatFlag, textOutput } from '../../cli/output.js'
import { callNode, resolveTarget, targetFlags } from '../../cli/target.js'
import { kvUsage } from '../../cli/usage.js'

export default class ListenerDelete extends BaseCommand {
  static description = 'Close a listener and its connections and remove it (until the node restarts)'
  static examples = ['<%= config.bin %> listener delete address=127.0.0.1 port=1883']
  static strict = false
  static flags = { ...targetFlags, format: formatFlag }
  static usage = kvUsage('address=<ip> port=<port>', this.flags)

  async run (): Promise<void> {
    const { argv, flags } = await this.parse(ListenerDelete)
    const request = listenerAddress(argv as string[], 'listener delete address=<ip> port=<port>')
    const reply = await callNode<typeof request, { text: string }>(resolveTarget(flags), 'ListenerDelete', request)
    process.stdout.write(textOutput(flags.format, reply.text))
  }
}
