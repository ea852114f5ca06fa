import { basename } from 'node:path'
import { Flags } from '@oclif/core'
import { BaseCommand } from '../cli/base.js'
import { CliError } from '../cli/errors.js'
import { readNewPassword } from '../cli/prompt.js'
import { parsePasswdArgs, usageText, UsageError, type PasswdInvocation } from '../passwd/args.js'
import {
  alreadyExists, checkEditable, checkUsername, createFile, deleteUser, fileExists,
  hashPlainPasswords, PasswdError, setUser
} from '../passwd/edit.js'
import { LockTimeoutError } from '../passwd/lock.js'

export default class Passwd extends BaseCommand {
  static summary = 'Manage a password file for the vmq_passwd plugin (same usage as vmq-passwd).'
  static description = 'Passwords are stored as $6$ (salted SHA-512) lines, readable by VerneMQ. ' +
    'Without --password the password is asked twice (not echoed on a terminal; read as two lines from a pipe).'

  static usage = [
    'passwd [-c | -cf | -D] passwordfile username',
    'passwd -U passwordfile',
    'passwd passwordfile username'
  ]

  static examples = [
    '$ vmq passwd -c /etc/vernemq/vmq.passwd henry',
    "$ printf 'secret\\nsecret\\n' | vmq-passwd /etc/vernemq/vmq.passwd henry",
    '$ vmq passwd -D /etc/vernemq/vmq.passwd henry',
    '$ vmq passwd -U /etc/vernemq/vmq.passwd'
  ]

  // -c, -cf, -D and -U are read positionally (see src/passwd/args.ts), like vmq-passwd.
  static strict = false
  static flags = {
    password: Flags.string({
      description: 'the password, instead of asking (less safe: visible in the process list and shell history)'
    })
  }

  async run (): Promise<void> {
    const { action, password } = this.invocation()
    switch (action.kind) {
      case 'create': {
        checkUsername(action.username)
        if (await fileExists(action.file)) {
          if (!action.overwrite) throw alreadyExists(action.file)
          if (password === undefined) this.log('File already exists. PLEASE ABORT OPERATION IF YOU DO NOT INTEND TO OVERWRITE THE EXISTING FILE!')
        }
        await createFile(action.file, action.username, await newPassword(password), action.overwrite)
        return
      }
      case 'set':
        checkUsername(action.username)
        await checkEditable(action.file)
        await setUser(action.file, action.username, await newPassword(password))
        return
      case 'delete':
        if (!await deleteUser(action.file, action.username)) {
          process.stderr.write(`Warning: User ${action.username} not found in password file.\n`)
        }
        return
      case 'hash-plain':
        for (const warning of await hashPlainPasswords(action.file)) process.stderr.write(warning + '\n')
    }
  }

  private invocation (): PasswdInvocation {
    try {
      return parsePasswdArgs(this.argv)
    } catch (err) {
      if (err instanceof UsageError) throw new CliError(`Error: ${err.message}\n${usageText(this.programName())}`)
      throw err
    }
  }

  private programName (): string {
    return basename(process.argv[1] ?? '').startsWith('vmq-passwd') ? 'vmq-passwd' : `${this.config.bin} passwd`
  }

  protected async catch (err: Error & { exitCode?: number }): Promise<void> {
    if (err instanceof PasswdError || err instanceof LockTimeoutError) return await super.catch(new CliError(`Error: ${err.message}`))
    return await super.catch(err)
  }
}

async function newPassword (given: string | undefined): Promise<string> {
  if (given === undefined) return await readNewPassword()
  if (given === '') throw new CliError('Error: Empty password.')
  return given
}
