import { Args } from '@oclif/core'
import { BaseCommand } from '../cli/base.js'
import { CliError } from '../cli/errors.js'
import { formatFlag, textOutput } from '../cli/output.js'
import { callNode, resolveTarget, targetFlags } from '../cli/target.js'

export default class Set extends BaseCommand {
  static description = 'Change runtime-settable configuration keys on a running node (not kept across restarts)'
  static examples = ['<%= config.bin %> set max_client_id_size=50 allow_anonymous=off']
  static strict = false
  static args = { assignment: Args.string({ description: 'key=value pair(s)', required: true }) }
  static flags = { ...targetFlags, format: formatFlag }

  async run (): Promise<void> {
    const { argv, flags } = await this.parse(Set)
    const values: Record<string, string> = {}
    for (const arg of argv as string[]) {
      const eq = arg.indexOf('=')
      if (eq <= 0) throw new CliError(`Invalid argument "${arg}": expected key=value`)
      values[arg.slice(0, eq)] = arg.slice(eq + 1)
    }
    await callNode(resolveTarget(flags), 'ConfigSet', { values })
    process.stdout.write(textOutput(flags.format, flags.format === 'json' ? 'Done' : ''))
  }
}
