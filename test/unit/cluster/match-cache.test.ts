import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import mqemitter from 'mqemitter'
import { cacheMatches } from '../../../src/cluster/match-cache.js'

type Heard = string[]

function listener (name: string, heard: Heard): (message: { topic: string }, done: () => void) => void {
  return (message, done) => { heard.push(`${name} ${message.topic}`); done() }
}

async function emit (emitter: mqemitter.MQEmitter, topic: string): Promise<void> {
  await new Promise<void>(resolve => { emitter.emit({ topic }, () => { resolve() }) })
}

describe('cacheMatches', () => {
  it('mqemitter matches every emit through its _matcher, subscriptions change through its add and remove (what the cache relies on)', async () => {
    const emitter = mqemitter()
    const calls: string[] = []
    const matcher = (emitter as unknown as { _matcher: Record<string, (...a: unknown[]) => unknown> })._matcher
    for (const name of ['add', 'remove', 'match']) {
      const original = matcher[name].bind(matcher)
      matcher[name] = (...args: unknown[]) => { calls.push(`${name} ${String(args[0])}`); return original(...args) }
    }
    const heard: Heard = []
    const a = listener('a', heard)
    await new Promise<void>(resolve => emitter.on('a/+', a, resolve))
    await emit(emitter, 'a/b')
    await new Promise<void>(resolve => emitter.removeListener('a/+', a, resolve))
    await emit(emitter, 'a/b')
    assert.deepEqual(calls, ['add a/+', 'match a/b', 'remove a/+', 'match a/b'])
    assert.deepEqual(heard, ['a a/b'])
  })

  it('finds the same listeners as Qlobber, matched once per topic until a subscription comes or goes', async () => {
    const scenario = async (cached: boolean): Promise<Heard> => {
      const emitter = mqemitter({ matchEmptyLevels: true })
      if (cached) cacheMatches(emitter)
      const heard: Heard = []
      const a = listener('a', heard)
      await new Promise<void>(resolve => emitter.on('a/+', a, resolve))
      if (cached) {
        const matcher = (emitter as unknown as { _matcher: { match: (t: string) => unknown[] } })._matcher
        assert.equal(matcher.match('a/b'), matcher.match('a/b'), 'the second match is the first one kept')
      }
      await emit(emitter, 'a/b')
      await new Promise<void>(resolve => emitter.on('#', listener('all', heard), resolve))
      await emit(emitter, 'a/b')
      await emit(emitter, 'c')
      await new Promise<void>(resolve => emitter.removeListener('a/+', a, resolve))
      await emit(emitter, 'a/b')
      return heard
    }
    const plain = await scenario(false)
    assert.deepEqual(plain, ['a a/b', 'all a/b', 'a a/b', 'all c', 'all a/b'])
    assert.deepEqual(await scenario(true), plain)
  })

  it('starts again beyond its limit of topics, still matching right', async () => {
    const emitter = mqemitter()
    cacheMatches(emitter, 2)
    const heard: Heard = []
    await new Promise<void>(resolve => emitter.on('t/+', listener('t', heard), resolve))
    for (const topic of ['t/1', 't/2', 't/3', 't/1', 'u/1', 't/3']) await emit(emitter, topic)
    assert.deepEqual(heard, ['t t/1', 't t/2', 't t/3', 't t/1', 't t/3'])
  })
})
