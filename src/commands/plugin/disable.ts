import { Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/base.js'
import { formatFlag, textOutput } from '../../cli/output.js'
import { callNode, resolveTarget, targetFlagsWithout } from '../../cli/target.js'
import type { TextReply__Output } from '../../rpc/generated/vmq/TextReply.js'

export default class PluginDisable extends BaseCommand {
  static description = 'Remove a plugin from the auth chain of the node and stop it'
  static examples = ['<%= config.bin %> plugin disable -n vmq_acl']
  static flags = {
    ...targetFlagsWithout('n'),
    name: Flags.string({ char: 'n', description: 'plugin name: vmq_passwd, vmq_acl or vmq_diversity', required: true }),
    format: formatFlag
  }

  async run (): Promise<void> {
    const { flags } = await this.parse(PluginDisable)
    const reply = await callNode<object, TextReply__Output>(resolveTarget(flags), 'PluginDisable', { name: flags.name })
    process.stdout.write(textOutput(flags.format, reply.text))
  }
}
