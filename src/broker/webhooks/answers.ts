// What a hook's JSON answer means, as VerneMQ reads it: `"result": "ok"` with
// optional modifiers, `"result": "next"`, or `"result": {"error": ...}`.
// auth_on_subscribe and on_unsubscribe (3.1.1) carry their rewritten topics at
// the top level, the other hooks in `modifiers`.
import type { HookName } from '../../config/webhooks.js'

export type AuthAnswer =
  | { kind: 'ok', modifiers: Record<string, unknown> }
  | { kind: 'next' }
  | { kind: 'error', reason: string }

const TOPICS_AT_TOP: readonly string[] = ['auth_on_subscribe', 'on_unsubscribe']

export function readAnswer (hook: HookName, body: unknown): AuthAnswer {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { kind: 'error', reason: 'invalid_response' }
  const answer = body as Record<string, unknown>
  const result = answer.result
  if (result === 'ok') {
    if (TOPICS_AT_TOP.includes(hook)) return { kind: 'ok', modifiers: answer.topics === undefined ? {} : { topics: answer.topics } }
    const modifiers = answer.modifiers
    return { kind: 'ok', modifiers: typeof modifiers === 'object' && modifiers !== null && !Array.isArray(modifiers) ? modifiers as Record<string, unknown> : {} }
  }
  if (result === 'next') return { kind: 'next' }
  if (typeof result === 'object' && result !== null) {
    const error = Array.isArray(result) ? undefined : (result as Record<string, unknown>).error
    return { kind: 'error', reason: error === undefined ? 'unknown_error' : typeof error === 'string' ? error : JSON.stringify(error) }
  }
  return { kind: 'error', reason: 'invalid_response' }
}
