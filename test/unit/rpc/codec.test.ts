// The precompiled service definitions (src/rpc/generated/codec.ts) against
// what @grpc/proto-loader makes of proto/vmq.proto with the same options: the
// same methods, and for every request and reply type the same bytes and the
// same decoded objects, for a message with every field set and for an empty one.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import protobuf from 'protobufjs'
import * as protoLoader from '@grpc/proto-loader'
import type { MethodDefinition } from '@grpc/grpc-js'
import { services } from '../../../src/rpc/generated/codec.js'

const PROTO = fileURLToPath(new URL('../../../../proto/vmq.proto', import.meta.url))
const reference = protoLoader.loadSync(PROTO, { longs: Number, enums: String, defaults: true, oneofs: true })
const root = protobuf.loadSync(PROTO)
root.resolveAll()

type Method = MethodDefinition<unknown, unknown>
const precompiled = services as unknown as Record<string, Record<string, Method>>

/** A value for every field (one member per oneof), nested messages down to `depth`. */
function sample (type: protobuf.Type, depth = 0): Record<string, unknown> {
  const value: Record<string, unknown> = {}
  const skipped = new Set(type.oneofsArray.flatMap(o => o.fieldsArray.slice(1).map(f => f.name)))
  for (const field of type.fieldsArray) {
    if (skipped.has(field.name)) continue
    const one = (): unknown => scalar(field, depth)
    if (field.map) value[field.name] = { a: one(), b: one() }
    else if (field.repeated) value[field.name] = [one(), one()]
    else value[field.name] = one()
  }
  return value
}

function scalar (field: protobuf.Field, depth: number): unknown {
  const resolved = field.resolve().resolvedType
  if (resolved instanceof protobuf.Type) return depth < 3 ? sample(resolved, depth + 1) : {}
  if (resolved instanceof protobuf.Enum) return Object.keys(resolved.values).at(-1)
  switch (field.type) {
    case 'string': return `${field.name} é€`
    case 'bool': return true
    case 'bytes': return Buffer.from([0, 1, 255])
    case 'double': case 'float': return 1.5
    case 'uint64': case 'fixed64': return 2 ** 40 + 3
    case 'int64': case 'sint64': case 'sfixed64': return -(2 ** 40) - 3
    case 'int32': case 'sint32': case 'sfixed32': return -5
    default: return 4_000_000_000
  }
}

function typeOf (path: string, side: 'request' | 'response'): protobuf.Type {
  const [, service, method] = path.split('/')
  const m = root.lookupService(service).methods[method]
  return root.lookupType(side === 'request' ? m.requestType : m.responseType)
}

test('precompiled services: the methods proto-loader gives, with the same path, streaming and names', () => {
  const expected = Object.entries(reference).filter(([, d]) => !('format' in d)).map(([name]) => name).sort()
  assert.deepEqual(Object.keys(precompiled).sort(), expected)
  for (const [service, methods] of Object.entries(precompiled)) {
    const given = reference[service] as unknown as Record<string, Method>
    assert.deepEqual(Object.keys(methods).sort(), Object.keys(given).sort(), service)
    for (const [name, m] of Object.entries(methods)) {
      const r = given[name]
      assert.deepEqual([m.path, m.requestStream, m.responseStream, m.originalName], [r.path, r.requestStream, r.responseStream, r.originalName], `${service}.${name}`)
    }
  }
})

test('precompiled services: every request and reply encodes and decodes as with proto-loader', () => {
  let checked = 0
  for (const [service, methods] of Object.entries(precompiled)) {
    const given = reference[service] as unknown as Record<string, Method>
    for (const [name, m] of Object.entries(methods)) {
      const r = given[name]
      for (const side of ['request', 'response'] as const) {
        const serialize = side === 'request' ? m.requestSerialize : m.responseSerialize
        const deserialize = side === 'request' ? m.requestDeserialize : m.responseDeserialize
        const serializeRef = side === 'request' ? r.requestSerialize : r.responseSerialize
        const deserializeRef = side === 'request' ? r.requestDeserialize : r.responseDeserialize
        for (const value of [sample(typeOf(m.path, side)), {}]) {
          const bytes = serialize(value)
          assert.deepEqual(bytes, serializeRef(value), `${service}.${name} ${side} bytes`)
          assert.deepEqual(deserialize(bytes), deserializeRef(bytes), `${service}.${name} ${side} decoded`)
          checked++
        }
        assert.deepEqual(deserialize(Buffer.alloc(0)), deserializeRef(Buffer.alloc(0)), `${service}.${name} ${side} defaults`)
      }
    }
  }
  assert.ok(checked > 40, `only ${checked} messages checked`)
})

test('precompiled services: refuse what proto-loader refuses', () => {
  const m = precompiled['vmq.Admin'].ClusterShow
  assert.throws(() => m.responseSerialize([]), /expected object with Table structure, got array instead/)
  assert.throws(() => m.responseSerialize({ columns: 'x' }), /\.vmq\.Table\.columns: array expected/)
})
