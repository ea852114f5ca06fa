import { readFileSync } from 'node:fs'
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'
import type { ProtoGrpcType } from './generated/vmq.js'
import { countLinkTraffic } from './link-traffic.js'

// Built from proto/vmq.proto by scripts/proto-json.js (npm run gen).
const DESCRIPTOR = new URL('../../proto/vmq.json', import.meta.url)

let loaded: ProtoGrpcType | undefined

/** The vmq package of proto/vmq.proto, loaded once per process. */
export function vmqProto (): ProtoGrpcType['vmq'] {
  if (loaded === undefined) {
    const json = JSON.parse(readFileSync(DESCRIPTOR, 'utf8')) as Record<string, unknown>
    const definition = protoLoader.fromJSON(json, { longs: Number, enums: String, defaults: true, oneofs: true })
    countLinkTraffic(definition)
    loaded = grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType
  }
  return loaded.vmq
}
