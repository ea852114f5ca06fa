import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile, chmod } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AclPlugin, type LogLevel } from '../../../../src/broker/auth/acl-plugin.js'
import type { ClientInfo } from '../../../../src/broker/auth/types.js'

let dir: string
before(async () => { dir = await mkdtemp(join(tmpdir(), 'vmq-acl-')) })
after(async () => { await rm(dir, { recursive: true, force: true }) })

interface Started { plugin: AclPlugin, logs: Array<[LogLevel, string]>, file: string }

let fileNo = 0
async function startWith (text: string, reloadIntervalSeconds = 0): Promise<Started> {
  const file = join(dir, `acl-${fileNo++}.acl`)
  await writeFile(file, text)
  const logs: Array<[LogLevel, string]> = []
  const plugin = new AclPlugin({ file, reloadIntervalSeconds, log: (level, msg) => { logs.push([level, msg]) } })
  await plugin.start()
  return { plugin, logs, file }
}

const anon: ClientInfo = { clientId: 'anon-1', username: undefined, mountpoint: '' }
const john: ClientInfo = { clientId: 'john-1', username: 'john', mountpoint: '' }

function pub (p: AclPlugin, client: ClientInfo, topic: string): string {
  return p.authOnPublish(client, { topic, qos: 0, retain: false, payloadSize: 0 })
}
function sub (p: AclPlugin, client: ClientInfo, topic: string): string {
  return p.authOnSubscribe(client, { topic, qos: 0 })
}

async function waitFor (what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}

describe('vmq_acl decisions on the example file', () => {
  const example = [
    'topic bar',
    'topic write foo',
    'topic read all',
    '',
    'user john',
    'topic foo',
    'topic read baz',
    'topic write all'
  ].join('\n')
  let s: Started
  before(async () => { s = await startWith(example) })
  after(() => { s.plugin.close() })

  test('it loads without problems', () => {
    assert.deepEqual(s.logs, [['info', `loaded ACL file ${s.file}: 8 rules`]])
  })
  test('line 1 `topic bar`: everyone publishes and subscribes bar', () => {
    for (const c of [anon, john]) {
      assert.equal(pub(s.plugin, c, 'bar'), 'ok')
      assert.equal(sub(s.plugin, c, 'bar'), 'ok')
    }
  })
  test('line 2 `topic write foo`: anonymous publishes foo but may not subscribe', () => {
    assert.equal(pub(s.plugin, anon, 'foo'), 'ok')
    assert.equal(sub(s.plugin, anon, 'foo'), 'next')
  })
  test('line 3 `topic read all`: anonymous subscribes all but may not publish', () => {
    assert.equal(sub(s.plugin, anon, 'all'), 'ok')
    assert.equal(pub(s.plugin, anon, 'all'), 'next')
  })
  test('line 6 `topic foo` under john: john publishes and subscribes foo', () => {
    assert.equal(pub(s.plugin, john, 'foo'), 'ok')
    assert.equal(sub(s.plugin, john, 'foo'), 'ok')
  })
  test('line 7 `topic read baz` under john: john subscribes baz but may not publish; others neither', () => {
    assert.equal(sub(s.plugin, john, 'baz'), 'ok')
    assert.equal(pub(s.plugin, john, 'baz'), 'next')
    assert.equal(sub(s.plugin, anon, 'baz'), 'next')
  })
  test('line 8 `topic write all` under john: john publishes all, and the all section lets him subscribe it', () => {
    assert.equal(pub(s.plugin, john, 'all'), 'ok')
    assert.equal(sub(s.plugin, john, 'all'), 'ok')
  })
  test('another user gets only the all section', () => {
    const mary: ClientInfo = { clientId: 'm', username: 'mary', mountpoint: '' }
    assert.equal(pub(s.plugin, mary, 'bar'), 'ok')
    assert.equal(sub(s.plugin, mary, 'baz'), 'next')
    assert.equal(pub(s.plugin, mary, 'all'), 'next')
  })
  test('unmatched topics answer next', () => {
    for (const c of [anon, john]) {
      assert.equal(pub(s.plugin, c, 'other'), 'next')
      assert.equal(sub(s.plugin, c, 'other'), 'next')
      assert.equal(sub(s.plugin, c, 'bar/x'), 'next')
      assert.equal(sub(s.plugin, c, '#'), 'next')
      assert.equal(sub(s.plugin, c, ''), 'next')
    }
  })
  test('a shared subscription is checked with its $share prefix: `topic bar` does not grant $share/g/bar', () => {
    assert.equal(sub(s.plugin, john, '$share/g/bar'), 'next')
    assert.equal(sub(s.plugin, anon, '$share/g/bar'), 'next')
  })
})

describe('vmq_acl decisions', () => {
  test('`topic #` grants shared subscriptions and $ topics', async () => {
    const { plugin } = await startWith('topic #\n')
    assert.equal(sub(plugin, anon, '$share/g/bar'), 'ok')
    assert.equal(sub(plugin, anon, '$SYS/#'), 'ok')
    assert.equal(sub(plugin, anon, '#'), 'ok')
    plugin.close()
  })

  test('the + versus # rule reaches subscribe decisions', async () => {
    const { plugin } = await startWith('topic read a/+\ntopic read b/+/c\n')
    assert.equal(sub(plugin, anon, 'a/#'), 'ok')
    assert.equal(sub(plugin, anon, 'a/+'), 'ok')
    assert.equal(sub(plugin, anon, 'b/#'), 'next')
    assert.equal(sub(plugin, anon, 'b/x/c'), 'ok')
    plugin.close()
  })

  test('patterns substitute %u, %c and %m; %u never matches an anonymous client', async () => {
    const { plugin } = await startWith([
      'pattern read users/%u/#',
      'pattern write devices/%c/out',
      'pattern %m/shared',
      'pattern read x%u/y'
    ].join('\n'))
    assert.equal(sub(plugin, john, 'users/john/inbox'), 'ok')
    assert.equal(sub(plugin, john, 'users/mary/inbox'), 'next')
    assert.equal(pub(plugin, john, 'users/john/inbox'), 'next')
    assert.equal(sub(plugin, anon, 'users/undefined/inbox'), 'next')
    assert.equal(sub(plugin, anon, 'users/+/inbox'), 'next')
    assert.equal(pub(plugin, anon, 'devices/anon-1/out'), 'ok')
    assert.equal(pub(plugin, john, 'devices/anon-1/out'), 'next')
    const mounted: ClientInfo = { clientId: 'c', username: 'u', mountpoint: 'site1' }
    assert.equal(pub(plugin, mounted, 'site1/shared'), 'ok')
    assert.equal(pub(plugin, mounted, 'site2/shared'), 'next')
    assert.equal(sub(plugin, anon, '/shared'), 'ok', 'an empty mountpoint is an empty level')
    assert.equal(sub(plugin, john, 'xjohn/y'), 'next', 'placeholders count only as whole levels')
    assert.equal(sub(plugin, john, 'x%u/y'), 'ok', 'a placeholder inside a level is literal text')
    plugin.close()
  })

  test('a client id that is a wildcard does not widen a pattern', async () => {
    const { plugin } = await startWith('pattern read clients/%c/#\n')
    const sneaky: ClientInfo = { clientId: '+', username: undefined, mountpoint: '' }
    assert.equal(sub(plugin, sneaky, 'clients/other/x'), 'next')
    plugin.close()
  })

  test('user names match exactly (case-sensitive)', async () => {
    const { plugin } = await startWith('user john\ntopic j\n')
    assert.equal(pub(plugin, { clientId: 'x', username: 'John', mountpoint: '' }, 'j'), 'next')
    assert.equal(pub(plugin, john, 'j'), 'ok')
    plugin.close()
  })

  test('revokedSubscriptions lists the filters no longer allowed', async () => {
    const { plugin } = await startWith('topic read a/#\nuser john\ntopic read j/+\n')
    assert.deepEqual(plugin.revokedSubscriptions(john, ['a/b', 'j/x', 'j/x/y', 'k', '$share/g/a/b']), ['j/x/y', 'k', '$share/g/a/b'])
    assert.deepEqual(plugin.revokedSubscriptions(anon, ['a/b', 'j/x']), ['j/x'])
    plugin.close()
  })

  test('declares its name and VerneMQ hooks', () => {
    const plugin = new AclPlugin({ file: join(dir, 'none'), reloadIntervalSeconds: 0, log: () => {} })
    assert.equal(plugin.name, 'vmq_acl')
    assert.deepEqual(plugin.hooks, ['auth_on_publish', 'auth_on_subscribe', 'auth_on_publish_m5', 'auth_on_subscribe_m5', 'change_config'])
  })
})

describe('vmq_acl loading and reloading', () => {
  test('an ACL file that is not a regular file is refused at once (/dev/zero was read forever)', async () => {
    const logs: Array<[LogLevel, string]> = []
    const plugin = new AclPlugin({ file: '/dev/zero', reloadIntervalSeconds: 0, log: (level, msg) => { logs.push([level, msg]) } })
    await plugin.start()
    assert.deepEqual(logs, [['error', "can't load ACL file /dev/zero: not a regular file; no ACL rules: every PUBLISH and SUBSCRIBE will be refused until it can be read (or set plugins.vmq_acl = off)"]])
    plugin.close()
  })

  test('bad lines are logged as file:line warnings and the rest applies', async () => {
    const { plugin, logs, file } = await startWith('topic a\ndeny b\ntopic c/#/d\ntopic e\n')
    assert.deepEqual(logs, [
      ['warn', `${file}:2: unknown keyword 'deny' (expected topic, user, pattern or a # comment) (line skipped)`],
      ['warn', `${file}:3: invalid topic filter: '#' must be the last level in 'c/#/d' (line skipped)`],
      ['info', `loaded ACL file ${file}: 4 rules, 2 lines skipped`]
    ])
    assert.equal(pub(plugin, anon, 'a'), 'ok')
    assert.equal(pub(plugin, anon, 'e'), 'ok')
    plugin.close()
  })

  test('reload picks up a change for the very next check', async () => {
    const { plugin, file } = await startWith('topic a\n')
    assert.equal(pub(plugin, john, 'a'), 'ok')
    assert.equal(pub(plugin, john, 'b'), 'next')
    await writeFile(file, 'topic b\n')
    await plugin.reload()
    assert.equal(pub(plugin, john, 'a'), 'next', 'a rule removed from the file is gone')
    assert.equal(pub(plugin, john, 'b'), 'ok')
    plugin.close()
  })

  test('the periodic reload picks up a change', async () => {
    const { plugin, file } = await startWith('topic a\n', 0.05)
    await writeFile(file, 'topic a\ntopic b\n')
    await waitFor('the reloaded rule', () => pub(plugin, anon, 'b') === 'ok')
    plugin.close()
  })

  test('a missing file at reload is logged with its name and the rules are kept', async () => {
    const { plugin, logs, file } = await startWith('topic a\n')
    await rm(file)
    await plugin.reload()
    assert.deepEqual(logs.at(-1), ['error', `can't load ACL file ${file}: no such file; keeping the 2 rules loaded before`])
    assert.equal(pub(plugin, anon, 'a'), 'ok')
    plugin.close()
  })

  test('an unreadable file at reload keeps the rules', { skip: process.getuid?.() === 0 ? 'root reads any file' : false }, async () => {
    const { plugin, logs, file } = await startWith('topic a\n')
    await chmod(file, 0o000)
    await plugin.reload()
    assert.deepEqual(logs.at(-1), ['error', `can't load ACL file ${file}: permission denied; keeping the 2 rules loaded before`])
    assert.equal(pub(plugin, anon, 'a'), 'ok')
    plugin.close()
  })

  test('a path that turns into a directory keeps the rules too', async () => {
    const { plugin, logs } = await startWith('topic a\n')
    const folder = await mkdtemp(join(dir, 'folder-'))
    await plugin.reconfigure({ file: folder })
    assert.deepEqual(logs.at(-1), ['error', `can't load ACL file ${folder}: it is a directory; keeping the 2 rules loaded before`])
    assert.equal(pub(plugin, anon, 'a'), 'ok')
    plugin.close()
  })

  test('a missing file at start says that every PUBLISH and SUBSCRIBE will be refused, and nothing is allowed', async () => {
    const logs: Array<[LogLevel, string]> = []
    const file = join(dir, 'missing.acl')
    const plugin = new AclPlugin({ file, reloadIntervalSeconds: 0, log: (l, m) => { logs.push([l, m]) } })
    await plugin.start()
    assert.deepEqual(logs, [['error', `can't load ACL file ${file}: no such file; no ACL rules: every PUBLISH and SUBSCRIBE will be refused until it exists (or set plugins.vmq_acl = off)`]])
    assert.equal(pub(plugin, anon, 'a'), 'next')
    assert.equal(sub(plugin, anon, 'a'), 'next')
    // a reload that still finds no file keeps the reload's line
    await plugin.reload()
    assert.deepEqual(logs.at(-1), ['error', `can't load ACL file ${file}: no such file; keeping the 0 rules loaded before`])
    await writeFile(file, 'topic a\n')
    await plugin.reload()
    assert.equal(pub(plugin, anon, 'a'), 'ok')
    plugin.close()
  })

  test('a missing file at start names the other plugins that may still allow', async () => {
    const logs: Array<[LogLevel, string]> = []
    const file = join(dir, 'missing-too.acl')
    const plugin = new AclPlugin({ file, reloadIntervalSeconds: 0, otherAuthorizers: () => ['vmq_diversity', 'vmq_webhooks'], log: (l, m) => { logs.push([l, m]) } })
    await plugin.start()
    assert.deepEqual(logs, [['error', `can't load ACL file ${file}: no such file; no ACL rules: every PUBLISH and SUBSCRIBE that vmq_diversity or vmq_webhooks does not allow will be refused until it exists (or set plugins.vmq_acl = off)`]])
    plugin.close()
  })

  test('a file without rules says that every PUBLISH and SUBSCRIBE will be refused', async () => {
    const { plugin, logs, file } = await startWith('# nothing allowed yet\n\n')
    assert.deepEqual(logs, [['warn', `loaded ACL file ${file}: 0 rules; no ACL rules: every PUBLISH and SUBSCRIBE will be refused until it has some (or set plugins.vmq_acl = off)`]])
    assert.equal(pub(plugin, anon, 'a'), 'next')
    plugin.close()
  })

  test('switching to a missing file while rules are loaded keeps them and says so', async () => {
    const { plugin, logs } = await startWith('topic a\n')
    const missing = join(dir, 'gone.acl')
    await plugin.reconfigure({ file: missing })
    assert.deepEqual(logs.at(-1), ['error', `can't load ACL file ${missing}: no such file; keeping the 2 rules loaded before`])
    assert.equal(pub(plugin, anon, 'a'), 'ok')
    plugin.close()
  })

  test('reconfigure switches to another file at once', async () => {
    const { plugin } = await startWith('topic a\n')
    const other = join(dir, 'other.acl')
    await writeFile(other, 'topic b\n')
    await plugin.reconfigure({ file: other, reloadIntervalSeconds: 0 })
    assert.equal(pub(plugin, anon, 'a'), 'next')
    assert.equal(pub(plugin, anon, 'b'), 'ok')
    plugin.close()
  })

  test('reconfigure can turn the periodic reload on', async () => {
    const { plugin, file } = await startWith('topic a\n', 0)
    await plugin.reconfigure({ reloadIntervalSeconds: 0.05 })
    await writeFile(file, 'topic b\n')
    await waitFor('the reloaded rule', () => pub(plugin, anon, 'b') === 'ok')
    plugin.close()
  })

  test('an unchanged file is not logged again', async () => {
    const { plugin, logs } = await startWith('topic a\n')
    await plugin.reload()
    await plugin.reload()
    assert.equal(logs.length, 1)
    plugin.close()
  })
})

test('a file with bad lines keeps the rules of the last file without any; after a load with bad lines the next one applies', async () => {
  const { plugin, logs, file } = await startWith('topic old\n')
  await writeFile(file, 'topic new\ntopik x\n')
  await plugin.reload()
  assert.equal(pub(plugin, anon, 'old'), 'ok')
  assert.equal(pub(plugin, anon, 'new'), 'next')
  assert.ok(logs.some(([level, msg]) => level === 'warn' && msg === `${file}:2: unknown keyword 'topik' (expected topic, user, pattern or a # comment)`), JSON.stringify(logs))
  assert.ok(logs.some(([level, msg]) => level === 'error' && msg === `ACL file ${file} has 1 bad line; keeping the 2 rules loaded before until it is fixed`), JSON.stringify(logs))
  await writeFile(file, 'topic new\n')
  await plugin.reload()
  assert.equal(pub(plugin, anon, 'new'), 'ok')
  plugin.close()

  const started = await startWith('topic old\ntopik x\n')
  await writeFile(started.file, 'topic new\ntopik x\n')
  await started.plugin.reload()
  assert.equal(pub(started.plugin, anon, 'new'), 'ok')
  started.plugin.close()
})
