import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'
import type { ProtoGrpcType } from './generated/vmq.js'
// Built from proto/vmq.proto by scripts/proto-json.js (npm run gen).
import descriptor from './generated/vmq.json' with { type: 'json' }

let loaded: ProtoGrpcType | undefined

/** The vmq package of proto/vmq.proto, loaded once per process. */
export function vmqProto (): ProtoGrpcType['vmq'] {
  if (loaded === undefined) {
    const definition = protoLoader.fromJSON(descriptor as Parameters<typeof protoLoader.fromJSON>[0], { longs: Number, enums: String, defaults: true, oneofs: true })
    loaded = grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType
  }
  return loaded.vmq
}
