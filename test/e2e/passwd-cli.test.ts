// `vmq passwd` and `vmq-passwd` as an operator runs them: real processes, a
// real temp directory, checks on what they print, their exit codes and the file.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import mqtt from 'mqtt'
import { parsePasswordText } from '../../src/passwd/file.js'
import { freePort } from './helpers/free-port.js'
import { verifyHashText } from '../../src/passwd/hash.js'

const REPO = fileURLToPath(new URL('../../../', import.meta.url))
const VMQ = join(REPO, 'bin', 'run.js')
const VMQ_PASSWD = join(REPO, 'bin', 'vmq-passwd.js')

interface RunResult { code: number | null, stdout: string, stderr: string }

async function run (command: string, args: string[], input = '', timeoutMs = 30_000): Promise<RunResult> {
  const child = spawn(command, args, { cwd: REPO, stdio: 'pipe' })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  child.stdin.end(input)
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  const code = await new Promise<number | null>(resolve => child.on('close', c => resolve(c)))
  clearTimeout(timer)
  return { code, stdout, stderr }
}

/** `vmq passwd <args>` */
async function vmqPasswd (args: string[], input = ''): Promise<RunResult> {
  return await run(process.execPath, [VMQ, 'passwd', ...args], input)
}

/** `vmq-passwd <args>` */
async function vmqPasswdTool (args: string[], input = ''): Promise<RunResult> {
  return await run(process.execPath, [VMQ_PASSWD, ...args], input)
}

function assertRun (r: RunResult, code: number, stderr = '', stdout = ''): void {
  assert.deepEqual({ code: r.code, stderr: r.stderr, stdout: r.stdout }, { code, stderr, stdout })
}

/** Users in a file that our reader (the broker's) loads; fails on any bad line. */
async function usersIn (file: string): Promise<Map<string, string>> {
  const table = parsePasswordText(await readFile(file, 'utf8'), file)
  assert.deepEqual(table.problems, [], `${file} parses cleanly`)
  return table.users
}

async function accepts (file: string, username: string, password: string): Promise<boolean> {
  const hash = (await usersIn(file)).get(username)
  return hash !== undefined && await verifyHashText(hash, password)
}

/** Everything about a file that must not change when a command refuses. */
async function snapshot (file: string): Promise<{ text: string, ino: number, mode: number, mtimeMs: number }> {
  const s = await stat(file)
  return { text: await readFile(file, 'utf8'), ino: s.ino, mode: s.mode, mtimeMs: s.mtimeMs }
}

async function mode (file: string): Promise<number> {
  return (await stat(file)).mode & 0o777
}

let dir: string
let n = 0
/** A fresh file name in the test directory. */
function newFile (): string {
  return join(dir, `p${++n}.passwd`)
}

before(async () => { dir = await mkdtemp(join(tmpdir(), 'vmq-passwd-e2e-')) })
after(async () => { await rm(dir, { recursive: true, force: true }) })

describe('creating files', () => {
  test('vmq-passwd -c creates a 0600 file with the user, password piped twice', async () => {
    const file = newFile()
    assertRun(await vmqPasswdTool(['-c', file, 'henry'], 'secret\nsecret\n'), 0)
    assert.equal(await mode(file), 0o600)
    assert.deepEqual([...(await usersIn(file)).keys()], ['henry'])
    assert.equal(await accepts(file, 'henry', 'secret'), true)
    assert.equal(await accepts(file, 'henry', 'Secret'), false)
    assert.match(await readFile(file, 'utf8'), /^henry:\$6\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==\n$/)
  })

  test('-c on an existing file is refused and the file is untouched', async () => {
    const file = newFile()
    assertRun(await vmqPasswd(['-c', file, 'henry', '--password', 'pw']), 0)
    const before = await snapshot(file)
    assertRun(await vmqPasswd(['-c', file, 'ida'], 'x\nx\n'), 1,
      `Error: File ${file} already exists. Please use -cf in case you want to overwrite the file\n`)
    assert.deepEqual(await snapshot(file), before)
  })

  test('-cf overwrites an existing file after a warning on stdout, keeping its mode', async () => {
    const file = newFile()
    assertRun(await vmqPasswd(['-c', file, 'henry', '--password', 'pw']), 0)
    await chmod(file, 0o640)
    assertRun(await vmqPasswdTool(['-cf', file, 'ida'], 'ipw\nipw\n'), 0, '',
      'File already exists. PLEASE ABORT OPERATION IF YOU DO NOT INTEND TO OVERWRITE THE EXISTING FILE!\n')
    assert.deepEqual([...(await usersIn(file)).keys()], ['ida'])
    assert.equal(await accepts(file, 'ida', 'ipw'), true)
    assert.equal(await mode(file), 0o640)
  })

  test('-cf on a new file just creates it', async () => {
    const file = newFile()
    assertRun(await vmqPasswd(['-cf', file, 'henry', '--password=pw']), 0)
    assert.equal(await accepts(file, 'henry', 'pw'), true)
    assert.equal(await mode(file), 0o600)
  })
})

describe('adding, updating and deleting users', () => {
  test('without a flag a user is added, then updated; other lines stay as they were', async () => {
    const file = newFile()
    await writeFile(file, '# our users\n', { mode: 0o644 })
    await chmod(file, 0o644)
    assertRun(await vmqPasswdTool([file, 'alice'], 'apw\napw\n'), 0)
    assertRun(await vmqPasswd([file, 'bob', '--password', 'bpw']), 0)
    assertRun(await vmqPasswd([file, 'alice'], 'new\r\nnew\r\n'), 0)
    assert.equal(await accepts(file, 'alice', 'new'), true)
    assert.equal(await accepts(file, 'alice', 'apw'), false)
    assert.equal(await accepts(file, 'bob', 'bpw'), true)
    const lines = (await readFile(file, 'utf8')).split('\n')
    assert.deepEqual(lines.map(l => l.split(':')[0]), ['# our users', 'alice', 'bob', ''])
    assert.equal(await mode(file), 0o644)
  })

  test('adding to a missing file is refused and creates nothing', async () => {
    const file = newFile()
    assertRun(await vmqPasswd([file, 'alice'], 'pw\npw\n'), 1, `Error: Unable to open password file ${file}. No such file or directory.\n`)
    await assert.rejects(stat(file), { code: 'ENOENT' })
  })

  test('-D removes the user; an unknown user is a warning with exit 0 and no change', async () => {
    const file = newFile()
    assertRun(await vmqPasswd(['-c', file, 'alice', '--password', 'apw']), 0)
    assertRun(await vmqPasswd([file, 'bob', '--password', 'bpw']), 0)
    assertRun(await vmqPasswdTool(['-D', file, 'alice']), 0)
    assert.deepEqual([...(await usersIn(file)).keys()], ['bob'])
    const before = await snapshot(file)
    assertRun(await vmqPasswd(['-D', file, 'nobody']), 0, 'Warning: User nobody not found in password file.\n')
    assert.deepEqual(await snapshot(file), before)
  })

  test('-U hashes plain passwords and leaves hashed lines alone with one warning each', async () => {
    const file = newFile()
    const hashed6 = '$6$AAECAwQFBgcICQoL$JqsxEv/ucyxjA5DKsQ+Y8CDWaQDNQI9FpAkmfwAqWfwZLk/JEGgM0EpylrJHAZKKyFQjJeZ3nFaHjPzOzPPmPw=='
    const hashed7 = '$7$101$AAECAwQFBgcICQoL$Xr99N9ym9ys8TWxis5ajETJq6EVYzmc6nb8t3pUYnPBbCAbICS4xejTltonXWCtJNBvA+By+TXUqU6qCblO00w=='
    await writeFile(file, `# plain file\nalice:apw\nbob:${hashed6}\ncarol:cpw\ndave:${hashed7}\n`)
    assertRun(await vmqPasswdTool(['-U', file]), 0,
      `Warning: ${file}:3: password of user bob is already hashed; line left unchanged.\n` +
      `Warning: ${file}:5: password of user dave is already hashed; line left unchanged.\n`)
    assert.equal(await accepts(file, 'alice', 'apw'), true)
    assert.equal(await accepts(file, 'carol', 'cpw'), true)
    assert.equal(await accepts(file, 'bob', 'secret'), true)
    assert.equal(await accepts(file, 'dave', 'secret'), true)
    const again = await snapshot(file)
    const second = await vmqPasswd(['-U', file])
    assert.equal(second.code, 0)
    assert.equal(second.stderr.split('\n').filter(l => l.startsWith('Warning:')).length, 4)
    assert.deepEqual(await snapshot(file), again, 'a second -U changes nothing')
  })
})

describe('refusals leave the file untouched', () => {
  async function existing (): Promise<string> {
    const file = newFile()
    assertRun(await vmqPasswd(['-c', file, 'alice', '--password', 'apw']), 0)
    return file
  }

  const cases: Array<{ name: string, args: (f: string) => string[], input?: string, stderr: string | RegExp }> = [
    { name: 'mismatching passwords', args: f => [f, 'bob'], input: 'one\ntwo\n', stderr: 'Error: Passwords do not match.\n' },
    { name: 'an empty password', args: f => [f, 'bob'], input: '\n\n', stderr: 'Error: Empty password.\n' },
    { name: 'only one password line', args: f => [f, 'bob'], input: 'one\n', stderr: 'Error: Empty password.\n' },
    { name: 'no input at all', args: f => [f, 'bob'], input: '', stderr: 'Error: Empty password.\n' },
    { name: 'an empty --password', args: f => [f, 'bob', '--password='], stderr: 'Error: Empty password.\n' },
    { name: "a username with ':'", args: f => [f, 'bo:b', '--password', 'x'], stderr: "Error: Username must not contain the ':' character.\n" },
    { name: 'a username with a control character', args: f => [f, 'bo\tb', '--password', 'x'], stderr: 'Error: Username must not contain control characters.\n' },
    { name: "a username starting with '#'", args: f => [f, '#bob', '--password', 'x'], stderr: "Error: Username must not start with '#' (the line would be read as a comment).\n" },
    { name: "-cf with a username with ':'", args: f => ['-cf', f, 'a:b'], input: 'x\nx\n', stderr: "Error: Username must not contain the ':' character.\n" },
    { name: 'an unknown option', args: f => ['-x', f, 'bob'], stderr: /^Error: Unknown option -x\.\nUsage: vmq passwd \[-c \| -cf \| -D\] passwordfile username\n/ },
    { name: 'too many arguments', args: f => [f, 'bob', 'extra'], stderr: /^Error: Too many arguments\.\nUsage: vmq passwd/ },
    { name: '--password with -D', args: f => ['-D', f, 'alice', '--password', 'x'], stderr: /^Error: Flag --password is only used when creating a file or setting a user's password\.\n/ }
  ]
  for (const c of cases) {
    test(`${c.name}: exit 1 with a message`, async () => {
      const file = await existing()
      const before = await snapshot(file)
      const r = await vmqPasswd(c.args(file), c.input ?? '')
      assert.equal(r.code, 1, r.stderr)
      if (typeof c.stderr === 'string') assert.equal(r.stderr, c.stderr)
      else assert.match(r.stderr, c.stderr)
      assert.equal(r.stdout, '')
      assert.deepEqual(await snapshot(file), before)
      assert.deepEqual((await readdir(dir)).filter(name => name.includes(file.split('/').pop() as string)), [file.split('/').pop()], 'no temp or lock file left')
    })
  }

  test('vmq-passwd without arguments prints its own usage and exits 1', async () => {
    const r = await vmqPasswdTool([])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^Error: Missing arguments\.\nUsage: vmq-passwd \[-c \| -cf \| -D\] passwordfile username\n {7}vmq-passwd -U passwordfile\n {7}vmq-passwd passwordfile username\n/)
  })
})

describe('on a terminal', () => {
  const missing = spawnSync('which', ['python3']).status !== 0
  const install = 'python3 is needed to give vmq-passwd a pseudo-terminal: install the Debian package `python3`'

  test('python3 is installed', () => {
    assert.equal(missing, false, install)
  })

  test('the password is asked twice without echo', { skip: missing && install }, async () => {
    const file = newFile()
    const r = await onTerminal([VMQ_PASSWD, '-c', file, 'tina'], ['Password:', 'tpw-typed\r', 'Reenter password:', 'tpw-typed\r'])
    assert.equal(r.code, 0, r.output)
    assert.doesNotMatch(r.output, /tpw-typed/)
    assert.equal(await accepts(file, 'tina', 'tpw-typed'), true)
  })

  test('a mismatch on the terminal is refused', { skip: missing && install }, async () => {
    const file = newFile()
    const r = await onTerminal([VMQ_PASSWD, '-c', file, 'tina'], ['Password:', 'one\r', 'Reenter password:', 'two\r'])
    assert.equal(r.code, 1, r.output)
    assert.match(r.output, /Error: Passwords do not match\./)
    await assert.rejects(stat(file), { code: 'ENOENT' })
  })

  test('Ctrl-C at the prompt aborts without writing', { skip: missing && install }, async () => {
    const file = newFile()
    const r = await onTerminal([VMQ_PASSWD, '-c', file, 'tina'], ['Password:', '\u0003'])
    assert.equal(r.code, 1, r.output)
    assert.match(r.output, /Error: Aborted; password file left unchanged\./)
    await assert.rejects(stat(file), { code: 'ENOENT' })
  })
})

// Runs node with `args` on a pseudo-terminal; `script` alternates text to wait
// for (each up to 20 s) and keystrokes to type. Returns everything shown.
const PTY_DRIVER = `
import json, os, pty, select, sys, time
args, script = json.loads(sys.argv[1]), json.loads(sys.argv[2])
pid, fd = pty.fork()
if pid == 0:
    os.execvp(args[0], args)
out = b''
status = None
def read(until):
    global out, status
    while time.time() < until:
        if select.select([fd], [], [], 0.05)[0]:
            try:
                data = os.read(fd, 4096)
            except OSError:
                return False
            if not data:
                return False
            out += data
        reaped, st = os.waitpid(pid, os.WNOHANG)
        if reaped != 0:
            status = st
            return False
    return True
for i, step in enumerate(script):
    if i % 2 == 0:
        deadline = time.time() + 20
        while step.encode() not in out and time.time() < deadline and read(time.time() + 0.1):
            pass
    else:
        os.write(fd, step.encode())
deadline = time.time() + 20
while read(time.time() + 0.1) and time.time() < deadline:
    pass
if status is None:
    try:
        os.kill(pid, 9)
    except ProcessLookupError:
        pass
    _, status = os.waitpid(pid, 0)
sys.stdout.write(json.dumps({'code': os.waitstatus_to_exitcode(status), 'output': out.decode(errors='replace')}))
`

async function onTerminal (args: string[], script: string[]): Promise<{ code: number, output: string }> {
  const r = await run('python3', ['-c', PTY_DRIVER, JSON.stringify([process.execPath, ...args]), JSON.stringify(script)], '', 60_000)
  assert.equal(r.code, 0, `pty driver failed: ${r.stderr}`)
  return JSON.parse(r.stdout) as { code: number, output: string }
}

test('20 vmq-passwd processes adding different users to one file at once all succeed', async () => {
  const file = newFile()
  assertRun(await vmqPasswd(['-c', file, 'first', '--password', 'pw']), 0)
  await chmod(file, 0o640)
  const results = await Promise.all(Array.from({ length: 20 }, async (_, i) =>
    await vmqPasswdTool([file, `user${i}`], `pw${i}\npw${i}\n`)))
  for (const r of results) assertRun(r, 0)
  const users = await usersIn(file)
  assert.equal(users.size, 21)
  for (let i = 0; i < 20; i++) assert.equal(await verifyHashText(users.get(`user${i}`) as string, `pw${i}`), true, `user${i}`)
  assert.equal(await mode(file), 0o640)
  const base = file.split('/').pop() as string
  assert.deepEqual((await readdir(dir)).filter(name => name.includes(base)), [base], 'no temp or lock file left')
})

describe('interoperability with mosquitto', () => {
  const missing = spawnSync('which', ['mosquitto_passwd', 'mosquitto']).status !== 0
  const install = 'mosquitto_passwd and mosquitto are needed: install the Debian package `mosquitto` (apt-get install mosquitto)'

  test('the mosquitto tools are installed', () => {
    assert.equal(missing, false, install)
  })

  test('files written by mosquitto_passwd ($7$ default, $6$ with -H sha512) verify with our reader', { skip: missing && install }, async () => {
    const pbkdf2 = newFile()
    const sha512 = newFile()
    assert.equal(spawnSync('mosquitto_passwd', ['-c', '-b', pbkdf2, 'alice', 'apw']).status, 0)
    assert.equal(spawnSync('mosquitto_passwd', ['-H', 'sha512', '-c', '-b', sha512, 'bob', 'bpw']).status, 0)
    assert.match(await readFile(pbkdf2, 'utf8'), /^alice:\$7\$/)
    assert.match(await readFile(sha512, 'utf8'), /^bob:\$6\$/)
    assert.equal(await accepts(pbkdf2, 'alice', 'apw'), true)
    assert.equal(await accepts(pbkdf2, 'alice', 'bpw'), false)
    assert.equal(await accepts(sha512, 'bob', 'bpw'), true)
    assert.equal(await accepts(sha512, 'bob', 'apw'), false)
    // and our tool edits a mosquitto file without disturbing its $7$ line
    assertRun(await vmqPasswd([pbkdf2, 'carol', '--password', 'cpw']), 0)
    assert.equal(await accepts(pbkdf2, 'alice', 'apw'), true)
    assert.equal(await accepts(pbkdf2, 'carol', 'cpw'), true)
  })

  test('a file written by vmq passwd is accepted by the mosquitto broker', { skip: missing && install }, async () => {
    const file = newFile()
    assertRun(await vmqPasswd(['-c', file, 'alice', '--password', 'apw']), 0)
    // mosquitto_passwd reads our file and adds to it
    assert.equal(spawnSync('mosquitto_passwd', ['-b', file, 'bob', 'bpw']).status, 0)
    assert.equal(await accepts(file, 'alice', 'apw'), true)
    const broker = await startMosquitto(file)
    try {
      assert.equal(await connackCode(broker.url, 'alice', 'apw'), 0)
      assert.equal(await connackCode(broker.url, 'alice', 'wrong'), 5)
      assert.equal(await connackCode(broker.url, 'bob', 'bpw'), 0)
    } finally {
      await broker.stop()
    }
  })
})

async function startMosquitto (passwordFile: string): Promise<{ url: string, stop: () => Promise<void> }> {
  const port = await freePort()
  const conf = join(dir, `mosquitto-${port}.conf`)
  // `user` keeps mosquitto from switching to the `mosquitto` account when run as root,
  // which could not read the 0600 file in our temp directory.
  const user = process.getuid?.() === 0 ? 'user root\n' : ''
  await writeFile(conf, `${user}listener ${port} 127.0.0.1\nallow_anonymous false\npassword_file ${passwordFile}\nlog_dest stderr\nlog_type all\n`)
  const child = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (d: Buffer) => { output += d.toString() })
  child.stderr.on('data', (d: Buffer) => { output += d.toString() })
  const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
  const deadline = Date.now() + 10_000
  while (!output.includes(`listen socket on port ${port}`)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL')
      assert.fail(`mosquitto did not start:\n${output}`)
    }
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    stop: async () => {
      child.kill('SIGTERM')
      await exited
    }
  }
}

async function connackCode (url: string, username: string, password: string): Promise<number | 'closed'> {
  const client = mqtt.connect(url, { username, password, reconnectPeriod: 0, connectTimeout: 5000 })
  try {
    return await new Promise<number | 'closed'>(resolve => {
      client.once('connect', () => resolve(0))
      client.once('error', err => {
        const code = (err as { code?: number }).code
        resolve(typeof code === 'number' ? code : 'closed')
      })
      client.once('close', () => resolve('closed'))
    })
  } finally {
    client.end(true)
  }
}
