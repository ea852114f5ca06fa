// DOCKER_VERNEMQ_USER_<NAME>=<password>, as VerneMQ's Docker image handles it:
// at start each variable adds the user <name> (lowercased) to the password
// file, or changes its password; the file is created when missing.
import { createFile, fileExists, setUser, usernameProblem } from './edit.js'

const PREFIX = 'DOCKER_VERNEMQ_USER_'

export interface EnvUser { variable: string, username: string, password: string }

export function envUsers (env: NodeJS.ProcessEnv): EnvUser[] {
  const users: EnvUser[] = []
  for (const [variable, password] of Object.entries(env)) {
    if (!variable.startsWith(PREFIX) || password === undefined) continue
    users.push({ variable, username: variable.slice(PREFIX.length).toLowerCase(), password })
  }
  return users.sort((a, b) => a.variable.localeCompare(b.variable))
}

/** The first problem of the variables, naming the variable; undefined when all are usable. */
export function envUsersProblem (users: readonly EnvUser[]): string | undefined {
  for (const { variable, username, password } of users) {
    const problem = usernameProblem(username)
    if (problem !== undefined) return `${variable}: ${problem}`
    if (password === '') return `${variable}: the password is empty`
  }
  return undefined
}

export async function addEnvUsers (file: string, users: readonly EnvUser[]): Promise<void> {
  for (const { username, password } of users) {
    if (!await fileExists(file)) {
      // another worker process may create it first: then the user is added to it
      try {
        await createFile(file, username, password, false)
        continue
      } catch (err) {
        if (!await fileExists(file)) throw err
      }
    }
    await setUser(file, username, password)
  }
}
