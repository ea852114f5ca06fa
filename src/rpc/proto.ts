import * as grpc from '@grpc/grpc-js'
// Built from proto/vmq.proto by scripts/proto-codec.js (npm run gen).
import { services } from './generated/codec.js'
import type { ProtoGrpcType } from './generated/vmq.js'
import { countLinkTraffic } from './link-traffic.js'

type Package = ProtoGrpcType['vmq']
/** The client constructors (with their .service definitions) of the services in proto/vmq.proto. */
export type VmqServices = { [K in keyof Package as Package[K] extends { service: unknown } ? K : never]: Package[K] }

let loaded: VmqServices | undefined

/** The services of proto/vmq.proto, made once per process from their precompiled definitions. */
export function vmqProto (): VmqServices {
  if (loaded === undefined) {
    countLinkTraffic(services as unknown as Parameters<typeof countLinkTraffic>[0])
    loaded = (grpc.loadPackageDefinition(services) as unknown as ProtoGrpcType).vmq
  }
  return loaded
}
