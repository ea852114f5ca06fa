// Seeded generator of broken vernemq.conf, password and ACL files: each text is
// a valid file with a few random mutations (bad values, unknown keys, missing
// `=`, stray quotes, binary bytes, invalid UTF-8, huge lines, CR/LF mixes,
// repeated entries...). The same seed always gives the same files.

import { int, pick, rng as seeded, type Rng } from './rng.js'

const VALID_CONF = [
  '# a valid vernemq.conf',
  'allow_anonymous = off',
  'listener.tcp.default = 127.0.0.1:1883',
  'listener.vmq.clustering = 127.0.0.1:44053',
  'listener.tcp.allowed_protocol_versions = 3,4,5',
  'max_client_id_size = 100',
  'persistent_dir = ./data',
  'retry_interval = 20',
  'max_inflight_messages = 20',
  'max_message_size = 0',
  'persistent_client_expiration = 1w',
  'vmq_passwd.password_file = ./vmq.passwd',
  'vmq_acl.acl_file = ./vmq.acl',
  'vmq_acl.acl_reload_interval = 10',
  'distributed_cookie = "vmq-cookie"',
  'nodename = VerneMQ@127.0.0.1',
  'log.console.level = info'
]

const VALID_PASSWD = [
  '# users',
  'alice:$6$c2FsdHNhbHRzYWx0$PpUZ1d7mcX5J2q3dp6sFkS0NBQjNt1HLMRzqXqhTx/bOpO5ZNc5Gf4U5vD2u4qxqqzCNF/4ssxY0ZLEuEOdTcA==',
  'bob:$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy',
  '',
  'carol:$7$101$c2FsdHNhbHRzYWx0c2FsdA==$IrHpRosc9G7dpWng4fmoz7i4m0OJManiSOt9ydY/GGFESaEYiiDW7pey3w6QGy7MoJT973eFWl8wateRqFmcgg=='
]

const VALID_ACL = [
  '# everyone',
  'topic public/#',
  'topic read $SYS/#',
  'pattern write devices/%u/#',
  'pattern read devices/%c/+/state',
  '',
  'user alice',
  'topic read alice/#',
  'topic write alice/out',
  'user bob',
  'topic bob/+/x'
]

const JUNK_BYTES = [
  Buffer.from([0x00]), Buffer.from([0xff, 0xfe]), Buffer.from([0xc3]), Buffer.from([0xe2, 0x82]),
  Buffer.from([0x1b, 0x5b, 0x32, 0x4a]), Buffer.from([0x07]), Buffer.from([0x0b, 0x0c]),
  Buffer.from('\u2028', 'utf8'), Buffer.from('\u0085', 'utf8'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0x7f])
]

/** Mutations common to the three formats, on the file's lines (as Buffers). */
function mutateLines (rng: Rng, lines: Buffer[], domain: Array<(rng: Rng, line: string) => string>): Buffer[] {
  const out = [...lines]
  const at = (): number => int(rng, out.length + 1)
  const count = 1 + int(rng, 3)
  for (let i = 0; i < count; i++) {
    const kind = int(rng, 12)
    const index = int(rng, out.length)
    const line = out[index] ?? Buffer.alloc(0)
    switch (kind) {
      case 0: case 1: case 2: out[index] = Buffer.from(pick(rng, domain)(rng, line.toString('utf8'))); break
      case 3: out.splice(at(), 0, Buffer.from(pick(rng, domain)(rng, ''))); break
      case 4: { // binary bytes somewhere in a line
        const cut = int(rng, line.length + 1)
        out[index] = Buffer.concat([line.subarray(0, cut), pick(rng, JUNK_BYTES), line.subarray(cut)])
        break
      }
      case 5: out.splice(at(), 0, Buffer.from(pick(rng, ['x', '=', 'key', 'a b c', '"']).repeat(1 + int(rng, 200_000)))); break // huge line
      case 6: out[index] = Buffer.concat([line, Buffer.from(pick(rng, ['\r', '\r\r', '\r\n\r', '\n\r']))]); break // CR/LF mixes
      case 7: out.splice(at(), 0, line); break // repeated line
      case 8: out[index] = line.subarray(0, int(rng, line.length + 1)); break // truncated
      case 9: out[index] = Buffer.from(Array.from({ length: 1 + int(rng, 64) }, () => int(rng, 256))); break // random bytes
      case 10: out[index] = Buffer.concat([Buffer.from(pick(rng, ['"', "'", '  ', '\t', '\uFEFF', '#', '\\'])), line]); break
      case 11: out[index] = Buffer.concat([line, Buffer.from(pick(rng, ['"', "'", ' =', ':', ' #x', '\t', ' \u00a0']))]); break
    }
  }
  return out
}

function join (rng: Rng, lines: Buffer[]): Buffer {
  const parts: Buffer[] = []
  for (const line of lines) parts.push(line, Buffer.from(rng() < 0.9 ? '\n' : pick(rng, ['\r\n', '\r'])))
  if (rng() < 0.3) parts.pop() // no final line break
  return Buffer.concat(parts)
}

const CONF_MUTATIONS: Array<(rng: Rng, line: string) => string> = [
  (rng, line) => line.replace(/=.*/, '= ' + pick(rng, ['', 'onn', '-1', '1e3', '99999999999999999999', '1x', 'never', '"', '""', '"on', '0x10', 'infinity', '∞', '\u00e9t\u00e9'])),
  (rng, line) => line.replace(/^[^=]*/, pick(rng, ['allow_anonymus ', 'listener.tcp ', 'listener.foo.bar ', 'listener.tcp.default.nope ', 'listener.tcp.bad name ', '. ', ' ', 'vmq_acl. ', 'plugins. '])),
  (_rng, line) => line.replace('=', ' '),
  (_rng, line) => line.replace('=', '=='),
  (rng, _line) => 'listener.' + pick(rng, ['tcp', 'ssl', 'ws', 'vmq', 'vmqs', 'http']) + '.x = ' + pick(rng, ['127.0.0.1', ':1883', '127.0.0.1:99999', '[::1:1883', 'host name:1', '1.2.3.4:-1', '"127.0.0.1:1883', '', 'off', '127.0.0.1:1883:1']),
  (rng, _line) => pick(rng, ['listener.vmqs.x = 127.0.0.1:44054', 'distributed_cookie = ', 'distributed_cookie = ""', 'persistent_dir = ', 'max_client_id_size = "', 'nodename']),
  (_rng, line) => `"${line}`,
  (_rng, line) => line.split('').reverse().join('')
]

const PASSWD_MUTATIONS: Array<(rng: Rng, line: string) => string> = [
  (_rng, line) => line.replace(':', ''),
  (_rng, line) => ':' + line,
  (_rng, line) => line.replace(':', '::'),
  (rng, line) => line.replace(/\$[^$]*\$/, pick(rng, ['$1$', '$6$', '$7$', '$2x$', '$$', '$7$abc$', '$2b$99$'])),
  (rng, line) => line.slice(0, Math.max(0, line.length - 1 - int(rng, 40))),
  (rng, _line) => pick(rng, ['dave:', 'dave', 'dave:plaintext', 'dave:$6$salt', 'dave:$6$$', 'dave:$7$101$$', 'dave:$2b$10$short', '  #not a comment:$6$']),
  (_rng, line) => ` ${line}`
]

const ACL_MUTATIONS: Array<(rng: Rng, line: string) => string> = [
  (rng, _line) => pick(rng, ['user', 'users john', 'User alice', 'topic', 'topic read', 'topic write ', 'pattern', 'topic readwrite a', 'topic deny a']),
  (rng, _line) => 'topic ' + pick(rng, ['a/#/b', 'a/b#', 'a+/b', '#/a', 'a\u0000b', '/'.repeat(100), 'x/'.repeat(40) + 'x', '$share/g', '$share//a', '']),
  (rng, line) => line.replace(/^\w+/, pick(rng, ['topics', 'usr', 'patern', 'TOPIC', '-', '!'])),
  (_rng, line) => line.replace(' ', '')
]

export interface BrokenFile { name: string, data: Buffer }

function generate (seed: number, count: number, valid: string[], mutations: Array<(rng: Rng, line: string) => string>, name: string): BrokenFile[] {
  const rng = seeded(seed)
  const base = valid.map(l => Buffer.from(l))
  return Array.from({ length: count }, (_, i) => ({ name: `${name}#${i}`, data: join(rng, mutateLines(rng, base, mutations)) }))
}

export function brokenConfigs (seed: number, count = 1000): BrokenFile[] {
  return generate(seed, count, VALID_CONF, CONF_MUTATIONS, 'vernemq.conf')
}

export function brokenPasswordFiles (seed: number, count = 1000): BrokenFile[] {
  return generate(seed, count, VALID_PASSWD, PASSWD_MUTATIONS, 'vmq.passwd')
}

export function brokenAclFiles (seed: number, count = 1000): BrokenFile[] {
  return generate(seed, count, VALID_ACL, ACL_MUTATIONS, 'vmq.acl')
}

export const VALID = { conf: VALID_CONF.join('\n') + '\n', passwd: VALID_PASSWD.join('\n') + '\n', acl: VALID_ACL.join('\n') + '\n' }
