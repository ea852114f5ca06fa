// Asking for a new password twice, as vmq-passwd does. On a terminal the
// password is not echoed; otherwise two lines are read from stdin, so
// `printf 'pw\npw\n' | vmq-passwd -c file user` works in scripts.
import { createInterface } from 'node:readline'
import { CliError } from './errors.js'

/** Reads the password and its confirmation; refuses an empty password or a mismatch. */
export async function readNewPassword (): Promise<string> {
  const read = process.stdin.isTTY ? readFromTerminal : readFromPipe
  return await read()
}

async function readFromTerminal (): Promise<string> {
  // the prompt library is loaded only when a terminal is there to ask on
  const { password: passwordPrompt } = await import('@inquirer/prompts')
  try {
    const first = await passwordPrompt({ message: 'Password:' })
    if (first === '') throw emptyPassword()
    const second = await passwordPrompt({ message: 'Reenter password:' })
    if (second === '') throw emptyPassword()
    if (first !== second) throw mismatch()
    return first
  } catch (err) {
    if ((err as Error).name === 'ExitPromptError') throw new CliError('Error: Aborted; password file left unchanged.')
    throw err
  }
}

async function readFromPipe (): Promise<string> {
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false })
  const next = lines[Symbol.asyncIterator]()
  try {
    const first = await nextLine(next)
    if (first === '') throw emptyPassword()
    const second = await nextLine(next)
    if (second === '') throw emptyPassword()
    if (first !== second) throw mismatch()
    return first
  } finally {
    lines.close()
    process.stdin.destroy()
  }
}

/** The next line without its line break; '' at end of input. */
async function nextLine (lines: AsyncIterator<string>): Promise<string> {
  const { value, done } = await lines.next()
  if (done === true) return ''
  return (value as string).replace(/[\r\n]+$/, '')
}

function emptyPassword (): CliError {
  return new CliError('Error: Empty password.')
}

function mismatch (): CliError {
  return new CliError('Error: Passwords do not match.')
}
