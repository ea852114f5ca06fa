// The CLI's entry (bin/run.js, bin/vmq-passwd.js): oclif's run, except that an
// unknown command is a usage error like any other (exit 1, one line) instead
// of oclif's exit 2.
import { Errors, flush, handle, run } from '@oclif/core'
import { EXIT_USAGE } from './errors.js'
import { escapeControls } from './escape.js'

export async function execute (options: { dir: string, args?: string[] }): Promise<void> {
  try {
    await run(options.args ?? process.argv.slice(2), options.dir)
    await flush()
  } catch (err) {
    const unknown = unknownCommand(err)
    if (unknown === undefined) return await handle(err as Error)
    process.stderr.write(`Unknown command "${escapeControls(unknown)}": \`vmq --help\` lists the commands\n`)
    process.exitCode = EXIT_USAGE
  }
}

/** The command oclif could not find, as the user typed it (topics separated by spaces). */
function unknownCommand (err: unknown): string | undefined {
  if (!(err instanceof Errors.CLIError)) return undefined
  const m = /^command (\S+) not found$/.exec(err.message)
  return m === null ? undefined : m[1].replaceAll(':', ' ')
}
