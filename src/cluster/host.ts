// What the cluster needs from its node, and the shapes it answers with.
import type { Logger } from 'pino'
import type { ClientTls } from '../rpc/tls.js'
import type { MqttEndpoint } from '../rpc/generated/vmq/MqttEndpoint.js'
import type { Publish } from '../rpc/generated/vmq/Publish.js'
import type { Retain } from '../rpc/generated/vmq/Retain.js'
import type { SessionHandover, SessionHandover__Output } from '../rpc/generated/vmq/SessionHandover.js'

export interface ClusterHost {
  readonly name: string
  readonly log: Logger
  cookie: () => string
  /** host:port other nodes reach this node's clustering listener at */
  address: () => string
  /** this node's running MQTT listeners as clients reach them */
  mqttEndpoints: () => MqttEndpoint[]
  /** what this node's connections to members trust and present when the cluster listener is vmqs; undefined = plain */
  tls: () => ClientTls | undefined
  /** hands routed publishes to local delivery in order; resolves once all are delivered (offline queues included) */
  deliverRemote: (publishes: Publish[]) => Promise<void>
  storeRetained: (retain: Retain) => Promise<void>
  retainedMessages: () => Promise<Retain[]>
  handover: (mountpoint: string, clientId: string, clean: boolean) => Promise<SessionHandover>
  adopt: (mountpoint: string, clientId: string, session: SessionHandover__Output) => Promise<void>
  /** timeout for requests to peers, ms */
  requestTimeout: () => number
  /** shared_subscription_policy */
  sharePolicy: () => string
  /** allow_publish_during_netsplit */
  publishDuringNetsplit: () => boolean
  /** a member's link came up (again): catch up with state it may have changed meanwhile */
  memberReachable?: (name: string, address: string) => void
}

export class ClusterError extends Error {}

export interface MemberStatus { name: string, running: boolean, reason: string }

export interface LeaveOptions { kill: boolean, timeoutSeconds: number, progress: (line: string) => void }
