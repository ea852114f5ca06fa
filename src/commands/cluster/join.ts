import { BaseCommand } from '../../cli/base.js'
import { CliError } from '../../cli/errors.js'
import { kvArgs } from '../../cli/kv-args.js'
import { formatFlag, textOutput } from '../../cli/output.js'
import { callNode, resolveTarget, targetFlags } from '../../cli/target.js'
import type { TextReply__Output } from '../../rpc/generated/vmq/TextReply.js'
import { kvUsage } from '../../cli/usage.js'

export default class ClusterJoin extends BaseCommand {
  static description = 'Make the node join the cluster of another node (run it against the joining node)'
  static examples = ['<%= config.bin %> cluster join discovery-node=VerneMQ@10.0.0.1', '<%= config.bin %> cluster join discovery-node=node1@127.0.0.1:44054']
  static strict = false
  static flags = { ...targetFlags, format: formatFlag }
  static usage = kvUsage('discovery-node=<node>', this.flags)

  async run (): Promise<void> {
    const { argv, flags } = await this.parse(ClusterJoin)
    const discovery = kvArgs(argv as string[], ['discovery-node'])['discovery-node']
    if (discovery === undefined || discovery === '') throw new CliError('You have to provide a discovery node (example discovery-node=vernemq1@127.0.0.1)')
    const reply = await callNode<object, TextReply__Output>(resolveTarget(flags), 'ClusterJoin', { discoveryNode: discovery })
    process.stdout.write(textOutput(flags.format, reply.text))
  }
}
