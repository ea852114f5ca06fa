// The README's "Run a cluster" section, run as it is written: its ```sh blocks
// in order, each command as a shell runs it, in an empty directory with `vmq`
// and `vmq-admin` on the PATH (as `npm link` puts them there), and each
// ```text block after an sh block is what that block prints. One thing is
// changed: the ports. A listener port of a config file the README writes is
// written as 0 (the node binds a free one), the node's report of its listeners
// (`listener mqtt tcp.default on 127.0.0.1:PORT`, in its log) says which port it
// got, and from then on that port replaces the README's in every command and
// in the outputs shown.
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { REPO, VMQ, killWithTests, run, tempDir, waitFor } from './helpers/processes.js'

const HEADING = '## Run a cluster'

interface Block { commands: string[], output: string | undefined }

/** The section's sh blocks, each split into commands (a heredoc is one command), with the text block that follows it. */
function sectionBlocks (readme: string): Block[] {
  const start = readme.indexOf(`\n${HEADING}\n`)
  assert.ok(start >= 0, `README.md has no "${HEADING}" section`)
  const end = readme.indexOf('\n## ', start + 1)
  const section = readme.slice(start, end < 0 ? undefined : end)
  const blocks: Block[] = []
  for (const [, lang, body] of section.matchAll(/^```(sh|text)\n([\s\S]*?)^```$/gm)) {
    if (lang === 'sh') blocks.push({ commands: splitCommands(body), output: undefined })
    else {
      assert.ok(blocks.length > 0 && blocks.at(-1)?.output === undefined, `a text block that follows no sh block: ${body}`)
      blocks[blocks.length - 1].output = body
    }
  }
  return blocks
}

function splitCommands (body: string): string[] {
  const commands: string[] = []
  const lines = body.split('\n').filter(l => l.trim() !== '')
  for (let i = 0; i < lines.length; i++) {
    const heredoc = /<<'?(\w+)'?\s*$/.exec(lines[i])
    if (heredoc === null) { commands.push(lines[i]); continue }
    const close = lines.indexOf(heredoc[1], i + 1)
    assert.ok(close > i, `heredoc without its ${heredoc[1]} line: ${lines[i]}`)
    commands.push(lines.slice(i, close + 1).join('\n') + '\n')
    i = close
  }
  return commands
}

/** README port -> the port its node reported. */
const ports = new Map<number, number>()
const LISTENER_LINE = /^(listener\.[a-z]+\.[A-Za-z0-9_]+) = ([0-9.]+):(\d+)$/gm

/** The ports already reported in place of the README's, anywhere in `text` (a README port not yet bound is an error). */
function withPorts (text: string, readmePorts: readonly number[]): string {
  return text.replace(/\b\d{4,5}\b/g, p => {
    const port = Number(p)
    if (!readmePorts.includes(port)) return p
    const bound = ports.get(port)
    assert.ok(bound !== undefined, `the README uses port ${port} before the node that has it started: ${text}`)
    return String(bound)
  })
}

/** A config file the README writes: its listener ports become 0 (those not reported yet), the rest as withPorts. */
function configWithPorts (heredoc: string, readmePorts: readonly number[]): string {
  const listeners = heredoc.replace(LISTENER_LINE, (line, key: string, host: string, port: string) => ports.has(Number(port)) ? line : `${key} = ${host}:0`)
  return withPorts(listeners, readmePorts)
}

describe('README: Run a cluster', () => {
  const dir = tempDir('vmq-readme-')
  const bin = join(dir, 'bin')
  const work = join(dir, 'work')
  const background: Array<{ command: string, proc: ChildProcess, exit: Promise<number | null> }> = []
  /** config file -> its text as the README writes it */
  const configs = new Map<string, string>()
  const env: NodeJS.ProcessEnv = { ...process.env }
  for (const key of Object.keys(env)) if (key.startsWith('VMQ_') || key.startsWith('DOCKER_VERNEMQ_')) delete env[key]

  after(async () => {
    for (const b of background) b.proc.kill('SIGTERM')
    await Promise.all(background.map(async b => await b.exit))
    rmSync(dir, { recursive: true, force: true })
  })

  it('runs every sh block of the section and prints what the section shows', async () => {
    mkdirSync(bin)
    mkdirSync(work)
    for (const name of ['vmq', 'vmq-admin']) {
      writeFileSync(join(bin, name), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(VMQ)} "$@"\n`)
      chmodSync(join(bin, name), 0o755)
    }
    env.PATH = `${bin}:${env.PATH ?? ''}`
    const blocks = sectionBlocks(readFileSync(join(REPO, 'README.md'), 'utf8'))
    const readmePorts = blocks.flatMap(b => b.commands).flatMap(c => [...c.matchAll(LISTENER_LINE)].map(m => Number(m[3])))
    assert.ok(readmePorts.length >= 6, `three nodes with an MQTT and a cluster listener each: ${readmePorts.join(', ')}`)
    assert.equal(new Set(readmePorts).size, readmePorts.length, 'every port of the section is another one')

    for (const block of blocks) {
      let printed = ''
      for (const command of block.commands) {
        const exported = /^export (\w+)=(\S+)$/.exec(command)
        if (exported !== null) {
          env[exported[1]] = exported[2]
          continue
        }
        const file = /^cat > (\S+) <</.exec(command)?.[1]
        if (file !== undefined) configs.set(file, command)
        if (command.endsWith(' &')) {
          background.push(startInBackground(withPorts(command.slice(0, -2), readmePorts)))
          await waitForListeners(command, background.at(-1) as typeof background[number])
          continue
        }
        const text = file !== undefined ? configWithPorts(command, readmePorts) : withPorts(command, readmePorts)
        const expected = block.output !== undefined && block.commands.length === 1 ? withPorts(block.output, readmePorts) : undefined
        const r = await runUntil(text, expected)
        assert.equal(r.code, 0, `${command}\nexit ${String(r.code)}: ${r.stderr}`)
        printed += r.stdout
        await leftNodeExits(command)
      }
      if (block.output !== undefined) assert.equal(printed, withPorts(block.output, readmePorts), block.commands.join('\n'))
    }
    assert.ok(ports.size === readmePorts.length, `every README port was bound and reported (${[...ports.keys()].join(', ')})`)
  })

  /** Runs a `... &` command with `exec` after its variable assignments, so that the process is the node itself. */
  function startInBackground (command: string): typeof background[number] {
    const [, assignments, rest] = /^((?:\w+=\S+\s+)*)(.*)$/.exec(command) ?? ['', '', command]
    const proc = spawn('sh', ['-c', `${assignments}exec ${rest}`], { cwd: work, env, stdio: 'ignore' })
    killWithTests(proc)
    const exit = new Promise<number | null>(resolve => proc.once('exit', code => { resolve(code) }))
    return { command, proc, exit }
  }

  /** A `vmq start -c FILE > LOG &`: waits until LOG reports every listener of FILE, and takes their ports. */
  async function waitForListeners (command: string, started: typeof background[number]): Promise<void> {
    const m = /vmq start -c (\S+) > (\S+)$/.exec(command.slice(0, -2))
    assert.ok(m !== null, `a background command of the section is \`vmq start -c FILE > LOG &\`: ${command}`)
    const [, file, log] = m
    const written = configs.get(file)
    assert.ok(written !== undefined, `${file} is not written by the section before ${command}`)
    const listeners = [...written.matchAll(LISTENER_LINE)].map(l => ({ name: l[1].replace(/^listener\.[a-z]+\./, match => match.slice('listener.'.length)), port: Number(l[3]) }))
    let exited: number | null | undefined
    void started.exit.then(code => { exited = code })
    const logFile = join(work, log)
    await waitFor(() => {
      assert.equal(exited, undefined, `${command} exited with ${String(exited)}: ${existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''}`)
      const text = existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''
      return listeners.every(l => new RegExp(`^listener \\S+ ${l.name.replace('.', '\\.')} on [0-9.]+:\\d+$`, 'm').test(text))
    }, 20000, `${log} to report the listeners of ${file}`)
    const text = readFileSync(logFile, 'utf8')
    for (const l of listeners) {
      const reported = new RegExp(`^listener \\S+ ${l.name.replace('.', '\\.')} on [0-9.]+:(\\d+)$`, 'm').exec(text)
      ports.set(l.port, Number(reported?.[1]))
    }
  }

  /**
   * Runs one command; one whose shown output is a cluster state (`cluster
   * show`) is run again until it shows it (at most 15 s): a node that joins at
   * start does so in the background.
   */
  async function runUntil (command: string, expected: string | undefined): Promise<{ code: number | null, stdout: string, stderr: string }> {
    const once = async (): Promise<{ code: number | null, stdout: string, stderr: string }> => await run('sh', ['-c', command], { cwd: work, env, timeoutMs: 30000 })
    if (expected === undefined || !/ cluster show\b/.test(command)) return await once()
    let last = await once()
    await waitFor(async () => {
      if (last.stdout === expected) return true
      last = await once()
      return last.stdout === expected
    }, 15000, `${command} to print\n${expected}`).catch(() => {})
    return last
  }

  /** After `cluster leave node=NAME -k`, the left node's `vmq start` exits 0, as the README says. */
  async function leftNodeExits (command: string): Promise<void> {
    const left = /cluster leave node=(\S+) -k\b/.exec(command)?.[1]
    if (left === undefined) return
    const file = [...configs].find(([, text]) => new RegExp(`^nodename = ${left.replace(/[.@]/g, '\\$&')}$`, 'm').test(text))?.[0]
    const node = background.find(b => file !== undefined && b.command.includes(` -c ${file} `))
    assert.ok(node !== undefined, `no node of the section is ${left}`)
    const timer = setTimeout(() => node.proc.kill('SIGKILL'), 15000)
    assert.equal(await node.exit, 0, `${left} exits 0 after it left`)
    clearTimeout(timer)
  }
})
