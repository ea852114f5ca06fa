import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import bcrypt from 'bcryptjs'
import { PasswdPlugin, type LogLevel } from '../../../../src/broker/auth/passwd-plugin.js'
import type { ClientInfo } from '../../../../src/broker/auth/types.js'
import { hashPassword } from '../../../../src/passwd/hash.js'
import { passwordFileText, watchEventLoop } from '../../../../bench/passwd-reload.js'

const H7 = '$7$101$AAECAwQFBgcICQoL$Xr99N9ym9ys8TWxis5ajETJq6EVYzmc6nb8t3pUYnPBbCAbICS4xejTltonXWCtJNBvA+By+TXUqU6qCblO00w=='

interface Harness { dir: string, file: string, logs: Array<[LogLevel, string]>, plugin: (interval?: number) => PasswdPlugin }

async function withHarness (fn: (h: Harness) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'vmq-passwd-plugin-'))
  const logs: Array<[LogLevel, string]> = []
  const plugins: PasswdPlugin[] = []
  const h: Harness = {
    dir,
    file: join(dir, 'vmq.passwd'),
    logs,
    plugin: (interval = 0) => {
      const p = new PasswdPlugin({ file: join(dir, 'vmq.passwd'), reloadIntervalSeconds: interval, log: (level, msg) => logs.push([level, msg]) })
      plugins.push(p)
      return p
    }
  }
  try {
    await fn(h)
  } finally {
    for (const p of plugins) p.close()
    await rm(dir, { recursive: true, force: true })
  }
}

function client (username: string | undefined): ClientInfo {
  return { clientId: 'c1', username, mountpoint: '' }
}

async function verdict (plugin: PasswdPlugin, username: string | undefined, password: string | undefined): Promise<string> {
  const v = await plugin.authOnRegister(client(username), password === undefined ? undefined : Buffer.from(password))
  return v.kind === 'refuse' ? `refuse ${v.code}` : v.kind
}

async function until (what: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}

test('name and hooks are those of VerneMQ', () => {
  const p = new PasswdPlugin({ file: 'x', reloadIntervalSeconds: 10, log: () => {} })
  assert.equal(p.name, 'vmq_passwd')
  assert.deepEqual([...p.hooks], ['auth_on_register', 'auth_on_register_m5', 'change_config'])
})

test('decisions: absent credentials and unknown users → next; match → ok; mismatch → refuse 4', async () => {
  await withHarness(async h => {
    const bcryptHash = await bcrypt.hash('bpw', 4)
    await writeFile(h.file, `alice:${hashPassword('apw')}\nbob:${H7}\ncarol:${bcryptHash.replace('$2b$', '$2y$')}\n`)
    const p = h.plugin()
    await p.start()
    assert.equal(p.userCount, 3)
    assert.equal(await verdict(p, undefined, 'apw'), 'next')
    assert.equal(await verdict(p, 'alice', undefined), 'next')
    assert.equal(await verdict(p, 'zed', 'apw'), 'next')
    assert.equal(await verdict(p, 'alice', 'apw'), 'ok')
    assert.equal(await verdict(p, 'alice', 'wrong'), 'refuse 4')
    assert.equal(await verdict(p, 'alice', ''), 'refuse 4')
    assert.equal(await verdict(p, 'bob', 'secret'), 'ok')
    assert.equal(await verdict(p, 'bob', 'nope'), 'refuse 4')
    assert.equal(await verdict(p, 'carol', 'bpw'), 'ok')
    assert.equal(await verdict(p, 'carol', 'nope'), 'refuse 4')
    const refused = await p.authOnRegister(client('alice'), Buffer.from('x'))
    assert.deepEqual(refused, { kind: 'refuse', code: 4, reason: 'invalid_credentials' })
  })
})

test('bad lines are logged as file:line and skipped; the good users work', async () => {
  await withHarness(async h => {
    await writeFile(h.file, `# comment\r\nalice:${hashPassword('apw')}\r\nbroken\r\nx:y:z\r\nbob:${hashPassword('bpw')}\r\n`)
    const p = h.plugin()
    await p.start()
    assert.equal(await verdict(p, 'alice', 'apw'), 'ok')
    assert.equal(await verdict(p, 'bob', 'bpw'), 'ok')
    const warnings = h.logs.filter(([level]) => level === 'warn').map(([, msg]) => msg)
    assert.deepEqual(warnings, [
      `vmq_passwd: ${h.file}:3: no ':' between username and password hash (line skipped)`,
      `vmq_passwd: ${h.file}:4: more than one ':' (usernames may not contain ':') (line skipped)`
    ])
    await p.reload()
    assert.equal(h.logs.filter(([level]) => level === 'warn').length, 2, 'the same problems are not logged again')
  })
})

test('reload applies additions, changes and deletions', async () => {
  await withHarness(async h => {
    await writeFile(h.file, `alice:${hashPassword('apw')}\nbob:${hashPassword('bpw')}\n`)
    const p = h.plugin()
    await p.start()
    await writeFile(h.file, `alice:${hashPassword('new')}\ncarol:${hashPassword('cpw')}\n`)
    assert.equal(await verdict(p, 'alice', 'apw'), 'ok', 'nothing changes before the reload')
    await p.reload()
    assert.equal(await verdict(p, 'alice', 'apw'), 'refuse 4')
    assert.equal(await verdict(p, 'alice', 'new'), 'ok')
    assert.equal(await verdict(p, 'bob', 'bpw'), 'next')
    assert.equal(await verdict(p, 'carol', 'cpw'), 'ok')
  })
})

test('the periodic reload picks up a changed file', async () => {
  await withHarness(async h => {
    await writeFile(h.file, `alice:${hashPassword('apw')}\n`)
    const p = h.plugin(1)
    await p.start()
    await writeFile(h.file, `alice:${hashPassword('apw')}\nbob:${hashPassword('bpw')}\n`)
    await until('bob to be loaded by the periodic reload', () => p.userCount === 2)
    assert.equal(await verdict(p, 'bob', 'bpw'), 'ok')
  })
})

test('a missing file keeps the users loaded before and is logged once', async () => {
  await withHarness(async h => {
    await writeFile(h.file, `alice:${hashPassword('apw')}\n`)
    const p = h.plugin()
    await p.start()
    await unlink(h.file)
    await p.reload()
    await p.reload()
    await p.reload()
    assert.equal(await verdict(p, 'alice', 'apw'), 'ok')
    const warnings = h.logs.filter(([level]) => level === 'warn').map(([, msg]) => msg)
    assert.deepEqual(warnings, [`vmq_passwd: password file ${h.file} not found; keeping the 1 user loaded before`])
    await writeFile(h.file, `bob:${hashPassword('bpw')}\n`)
    await p.reload()
    assert.equal(await verdict(p, 'alice', 'apw'), 'next')
    assert.equal(await verdict(p, 'bob', 'bpw'), 'ok')
    assert.deepEqual(h.logs.at(-1), ['info', `vmq_passwd: loaded 1 user from ${h.file}`])
  })
})

test('a missing file at start loads nothing (every user is next) and says so once', async () => {
  await withHarness(async h => {
    const p = h.plugin()
    await p.start()
    await p.reload()
    assert.equal(await verdict(p, 'alice', 'apw'), 'next')
    assert.deepEqual(h.logs, [['warn', `vmq_passwd: password file ${h.file} not found; no users loaded`]])
  })
})

test('reconfigure switches the file at once and validates its settings', async () => {
  await withHarness(async h => {
    const other = join(h.dir, 'other.passwd')
    await writeFile(h.file, `alice:${hashPassword('apw')}\n`)
    await writeFile(other, `bob:${hashPassword('bpw')}\n`)
    const p = h.plugin()
    await p.start()
    await p.reconfigure({ file: other })
    assert.equal(p.file, other)
    assert.equal(await verdict(p, 'alice', 'apw'), 'next')
    assert.equal(await verdict(p, 'bob', 'bpw'), 'ok')
    await p.reconfigure({ reloadIntervalSeconds: 1 })
    assert.equal(p.reloadIntervalSeconds, 1)
    await writeFile(other, `bob:${hashPassword('bpw')}\ncarol:${hashPassword('cpw')}\n`)
    await until('the new interval to reload the file', () => p.userCount === 2)
    await assert.rejects(p.reconfigure({ reloadIntervalSeconds: -1 }), /password_reload_interval must be a whole number of seconds ≥ 0, got -1/)
    await assert.rejects(p.reconfigure({ file: '' }), /password_file must be a file path/)
    assert.equal(p.file, other)
    assert.throws(() => new PasswdPlugin({ file: 'f', reloadIntervalSeconds: 1.5, log: () => {} }), /got 1.5/)
  })
})

test('concurrent reloads do not overlap and the last file content wins', async () => {
  await withHarness(async h => {
    await writeFile(h.file, `alice:${hashPassword('apw')}\n`)
    const p = h.plugin()
    await p.start()
    await writeFile(h.file, `bob:${hashPassword('bpw')}\n`)
    await Promise.all([p.reload(), p.reload(), p.reconfigure({ reloadIntervalSeconds: 0 })])
    assert.equal(p.userCount, 1)
    assert.equal(await verdict(p, 'bob', 'bpw'), 'ok')
  })
})

test('loading 100,000 users gives the event loop back while it works', async (t) => {
  await withHarness(async h => {
    await writeFile(h.file, passwordFileText(100_000))
    const p = h.plugin()
    let ticks = 0
    const counter = setInterval(() => { ticks++ }, 1)
    const watched = await watchEventLoop(async () => await p.start())
    clearInterval(counter)
    t.diagnostic(`100,000 users loaded in ${watched.ms.toFixed(0)} ms; longest event-loop gap ${watched.maxTimerGapMs.toFixed(1)} ms ` +
      `(monitorEventLoopDelay max ${watched.maxLoopDelayMs.toFixed(1)} ms); timer ran ${ticks} times during the load`)
    assert.equal(p.userCount, 100_000)
    assert.equal(await verdict(p, 'user99999', 'pw99999'), 'ok')
    assert.equal(await verdict(p, 'user50000', 'secret'), 'ok', 'every 10th user is a $7$ line')
    // A load that never yields would let the 1 ms timer run at most once or twice.
    assert.ok(ticks >= 10, `the timer ran only ${ticks} times during the load`)
  })
})

test('a user listed again is logged with both lines; the later entry wins, as in VerneMQ', async () => {
  await withHarness(async h => {
    await writeFile(h.file, `alice:${hashPassword('old')}\nbob:${hashPassword('bpw')}\nalice:${hashPassword('new')}\n`)
    const p = h.plugin()
    await p.start()
    assert.equal(await verdict(p, 'alice', 'new'), 'ok')
    assert.deepEqual(h.logs.filter(([level]) => level === 'warn').map(([, msg]) => msg), [
      `vmq_passwd: ${h.file}:3: user alice given again (first at line 1); the later entry wins`
    ])
  })
})

test('a password file that is not a regular file is refused at once (/dev/zero was read forever)', async () => {
  const logs: Array<[LogLevel, string]> = []
  const p = new PasswdPlugin({ file: '/dev/zero', reloadIntervalSeconds: 0, log: (level, msg) => logs.push([level, msg]) })
  try {
    await p.start()
    assert.deepEqual(logs, [['warn', 'vmq_passwd: password file /dev/zero cannot be read (not a regular file); no users loaded']])
  } finally {
    p.close()
  }
})

test('a file with bad lines keeps the users of the last file without any; after a load with bad lines the next one applies', async () => {
  await withHarness(async h => {
    await writeFile(h.file, `john:${hashPassword('old')}\n`)
    const p = h.plugin()
    await p.start()
    await writeFile(h.file, `john:${hashPassword('new')}\nbroken line\n`)
    await p.reload()
    assert.deepEqual(await p.authOnRegister(client('john'), Buffer.from('old')), { kind: 'ok' })
    assert.ok(h.logs.some(([level, msg]) => level === 'warn' && msg === `vmq_passwd: ${h.file}:2: no ':' between username and password hash`), JSON.stringify(h.logs))
    assert.ok(h.logs.some(([, msg]) => msg === `vmq_passwd: ${h.file} has 1 line bad; keeping the 1 user loaded before until it is fixed`), JSON.stringify(h.logs))
    await writeFile(h.file, `john:${hashPassword('new')}\n`)
    await p.reload()
    assert.deepEqual(await p.authOnRegister(client('john'), Buffer.from('new')), { kind: 'ok' })
  })
  await withHarness(async h => {
    await writeFile(h.file, `john:${hashPassword('old')}\nbroken line\n`)
    const p = h.plugin()
    await p.start()
    await writeFile(h.file, `john:${hashPassword('new')}\nbroken line\n`)
    await p.reload()
    assert.deepEqual(await p.authOnRegister(client('john'), Buffer.from('new')), { kind: 'ok' })
  })
})
