#!/usr/bin/env node
// Writes proto/vmq.proto as a protobufjs JSON descriptor (dist/proto/vmq.json):
// loading that at run time skips parsing the .proto text, which every CLI call
// would otherwise pay.
import { mkdirSync, writeFileSync } from 'node:fs'
import protobuf from 'protobufjs'

const root = protobuf.loadSync(new URL('../proto/vmq.proto', import.meta.url).pathname)
mkdirSync(new URL('../dist/proto/', import.meta.url), { recursive: true })
writeFileSync(new URL('../dist/proto/vmq.json', import.meta.url), JSON.stringify(root.toJSON()))
