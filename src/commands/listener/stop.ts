import { Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/base.js'
import { listenerAddress } from '../../cli/listener.js'
import { formatFlag, textOutput } from '../../cli/output.js'
import { callNode, resolveTarget, targetFlags } from '../../cli/target.js'
import { kvUsage } from '../../cli/usage.js'

export default class ListenerStop extends BaseCommand {
  static description = 'Stop accepting connections on a listener (existing ones stay unless -k); listener restart resumes it'
  static examples = ['<%= config.bin %> listener stop address=127.0.0.1 port=1883', '<%= config.bin %> listener stop address=127.0.0.1 port=1883 -k']
  static strict = false
  static flags = {
    ...targetFlags,
    format: formatFlag,
    kill_sessions: Flags.boolean({ char: 'k', description: 'also close the connections accepted by this listener' })
  }
  static usage = kvUsage('address=<ip> port=<port>', this.flags)

  async run (): Promise<void> {
    const { argv, flags } = await this.parse(ListenerStop)
    const request = { ...listenerAddress(argv as string[], 'listener stop address=<ip> port=<port> [-k]'), killSessions: flags.kill_sessions }
    const reply = await callNode<typeof request, { text: string }>(resolveTarget(flags), 'ListenerStop', request)
    process.stdout.write(textOutput(flags.format, reply.text))
  }
}
