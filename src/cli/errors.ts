// Exit codes shared by every command: 0 ok, 1 usage or validation error,
// 2 node unreachable or RPC failure.
export const EXIT_OK = 0
export const EXIT_USAGE = 1
export const EXIT_UNREACHABLE = 2

/** An error meant for the operator: printed as one line on stderr, never a stack trace. */
export class CliError extends Error {
  constructor (message: string, readonly exitCode: number = EXIT_USAGE) {
    super(message)
    this.name = 'CliError'
  }
}

interface OclifLikeError { oclif?: { exit?: number }, code?: string }

/** Turns anything thrown by a command into the line to print and the exit code. */
export function describeFailure (err: unknown): { message: string, exitCode: number } {
  if (err instanceof CliError) return { message: err.message, exitCode: err.exitCode }
  const e = err as Error & OclifLikeError
  if (e?.oclif?.exit === 0) return { message: '', exitCode: 0 }
  if (e?.oclif !== undefined || e?.code?.startsWith?.('EEXIT') === true) {
    // oclif's own parse errors (unknown flag, missing argument): usage errors.
    return { message: firstLine(e.message), exitCode: e.oclif?.exit === 0 ? 0 : EXIT_USAGE }
  }
  return { message: `Error: ${firstLine(e?.message ?? String(err))}`, exitCode: EXIT_USAGE }
}

function firstLine (text: string): string {
  return text.split('\n').map(l => l.trim()).filter(l => l.length > 0).join(' ')
}
