import { BaseCommand } from '../../cli/base.js'
import { listenerAddress } from '../../cli/listener.js'
import { formatFlag, textOutput } from '../../cli/output.js'
import { callNode, resolveTarget, targetFlags } from '../../cli/target.js'
import { kvUsage } from '../../cli/usage.js'

export default class ListenerRestart extends BaseCommand {
  static description = 'Accept connections again on a stopped listener'
  static examples = ['<%= config.bin %> listener restart address=127.0.0.1 port=1883']
  static strict = false
  static flags = { ...targetFlags, format: formatFlag }
  static usage = kvUsage('address=<ip> port=<port>', this.flags)

  async run (): Promise<void> {
    const { argv, flags } = await this.parse(ListenerRestart)
    const request = listenerAddress(argv as string[], 'listener restart address=<ip> port=<port>')
    const reply = await callNode<typeof request, { text: string }>(resolveTarget(flags), 'ListenerRestart', request)
    process.stdout.write(textOutput(flags.format, reply.text))
  }
}
