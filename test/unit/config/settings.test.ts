import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Settings, SettingError } from '../../../src/config/settings.js'
import { KEYS } from '../../../src/config/schema.js'

function defaults (): Settings {
  return new Settings(new Map(KEYS.map(def => [def.key, def.default])))
}

test('watch: called once per change of a watched key, not for others, and not after the returned stop', () => {
  const settings = defaults()
  const seen: string[] = []
  const stop = settings.watch(['retry_interval', 'max_inflight_messages'], key => { seen.push(`${key}=${settings.number(key)}`) })
  settings.set({ retry_interval: '5', max_online_messages: '7' })
  settings.set({ max_inflight_messages: '3' })
  stop()
  settings.set({ retry_interval: '9' })
  assert.deepEqual(seen, ['retry_interval=5', 'max_inflight_messages=3'])
})

test('watch by prefix sees every key of a plugin', () => {
  const settings = defaults()
  const seen: string[] = []
  settings.watch({ prefix: 'vmq_acl.' }, key => { seen.push(key) })
  settings.set({ 'vmq_acl.acl_reload_interval': '5', retry_interval: '3' })
  assert.deepEqual(seen, ['vmq_acl.acl_reload_interval'])
})

test('set refuses an unknown key and a key that is not settable, changing nothing', () => {
  const settings = defaults()
  assert.throws(() => settings.set({ retry_interval: '5', max_inflight_mesages: '3' }), (e: Error) => e instanceof SettingError && e.message === 'Invalid config keys: max_inflight_mesages')
  assert.throws(() => settings.set({ nodename: 'x@y' }), { message: 'The following config keys are not settable: ["nodename"]' })
  assert.equal(settings.number('retry_interval'), 20)
})

test('a misspelled key does not compile (and throws if forced)', () => {
  const settings = defaults()
  // @ts-expect-error 'max_inflight_mesages' is not a key of the schema
  assert.throws(() => settings.number('max_inflight_mesages'), { message: 'no such setting: max_inflight_mesages' })
})

test('set of a key without effect is refused, naming it, and changes nothing', () => {
  const settings = defaults()
  assert.throws(() => settings.set({ retry_interval: '5', coordinate_registrations: 'off' }), { message: 'coordinate_registrations: no effect in vmq-ts yet; not changed' })
  assert.equal(settings.number('retry_interval'), 20)
  assert.equal(settings.flag('coordinate_registrations'), true)
})

test('set of a VerneMQ key with a free part (plugins.<name>.path) says it has no effect', () => {
  const settings = defaults()
  assert.throws(() => settings.set({ 'plugins.vmq_web_ui.path': '/x' }), { message: 'plugins.vmq_web_ui.path: no effect in vmq-ts yet; not changed' })
})
