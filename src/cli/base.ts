import { Command } from '@oclif/core'
import { describeFailure } from './errors.js'
import { escapeControls } from './escape.js'

/**
 * Every vmq command extends this: a failure prints one line on stderr and sets
 * the exit code (see errors.ts) instead of a stack trace.
 */
export abstract class BaseCommand extends Command {
  protected async catch (err: Error & { exitCode?: number }): Promise<void> {
    const { message, exitCode } = describeFailure(err)
    if (message !== '') process.stderr.write(escapeControls(message, '\n') + '\n')
    process.exitCode = exitCode
  }
}
