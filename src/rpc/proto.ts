import { fileURLToPath } from 'node:url'
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'
import type { ProtoGrpcType } from './generated/vmq.js'

const PROTO_PATH = fileURLToPath(new URL('../../../proto/vmq.proto', import.meta.url))

let loaded: ProtoGrpcType | undefined

/** The vmq package of proto/vmq.proto, loaded once per process. */
export function vmqProto (): ProtoGrpcType['vmq'] {
  if (loaded === undefined) {
    const definition = protoLoader.loadSync(PROTO_PATH, {
      longs: Number, enums: String, defaults: true, oneofs: true
    })
    loaded = grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType
  }
  return loaded.vmq
}
