// A retained message a peer routes here reaches local subscribers with its
// RETAIN flag, which a subscription with Retain As Published must see
// (MQTT-3.3.1-13). aedes stores every retained message it publishes; this
// persistence skips the ones routed from a peer: the peer's replication
// (RetainedReplication.replicate) stores them, in last-writer-wins order, and a late
// routed copy must not overwrite a newer retained message.
import { overlay } from '../broker/store/overlay.js'
import type { Persistence, StoredPacket } from '../broker/store/persistence.js'

export function skipPeerRetained<P extends Persistence> (persistence: P, isPeerOrigin: (brokerId: string) => boolean): P {
  return overlay(persistence, {
    storeRetained: async (packet: StoredPacket): Promise<void> => {
      if (packet.brokerId !== undefined && isPeerOrigin(packet.brokerId)) return
      await persistence.storeRetained(packet)
    }
  })
}
