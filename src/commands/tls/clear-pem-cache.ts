import { BaseCommand } from '../../cli/base.js'
import { formatFlag, textOutput } from '../../cli/output.js'
import { callNode, resolveTarget, targetFlags } from '../../cli/target.js'

export default class TlsClearPemCache extends BaseCommand {
  static description = 'Re-read the certificate files of every TLS listener now (they are also re-read when they change)'
  static examples = ['<%= config.bin %> tls clear-pem-cache']
  static flags = { ...targetFlags, format: formatFlag }

  async run (): Promise<void> {
    const { flags } = await this.parse(TlsClearPemCache)
    const reply = await callNode<object, { text: string }>(resolveTarget(flags), 'TlsClearPemCache', {})
    process.stdout.write(textOutput(flags.format, reply.text))
  }
}
