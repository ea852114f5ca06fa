#!/usr/bin/env node
// Writes proto/vmq.proto as a protobufjs JSON descriptor
// (src/rpc/generated/vmq.json, next to the generated types): src/rpc/proto.ts
// imports it, so no call parses the .proto text, and the CLI bundle carries it.
import { mkdirSync, writeFileSync } from 'node:fs'
import protobuf from 'protobufjs'

const root = protobuf.loadSync(new URL('../proto/vmq.proto', import.meta.url).pathname)
mkdirSync(new URL('../src/rpc/generated/', import.meta.url), { recursive: true })
writeFileSync(new URL('../src/rpc/generated/vmq.json', import.meta.url), JSON.stringify(root.toJSON()))
