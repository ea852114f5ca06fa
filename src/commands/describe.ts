import { Args } from '@oclif/core'
import { BaseCommand } from '../cli/base.js'
import { CliError } from '../cli/errors.js'
import { formatFlag, tableOutput } from '../cli/output.js'
import { describeKey } from '../config/describe.js'

export default class Describe extends BaseCommand {
  static description = 'Describe configuration keys: doc line, type, default, whether `set` can change them'
  static examples = ['<%= config.bin %> describe max_client_id_size']
  static strict = false
  static args = { key: Args.string({ description: 'configuration key(s)', required: true }) }
  static flags = { format: formatFlag }

  async run (): Promise<void> {
    const { argv, flags } = await this.parse(Describe)
    const rows = (argv as string[]).map(key => {
      const row = describeKey(key)
      if (row === undefined) throw new CliError(`Invalid config keys: ${key}`)
      return row
    })
    process.stdout.write(await tableOutput(flags.format, ['key', 'description', 'type', 'default', 'settable'], rows))
  }
}
