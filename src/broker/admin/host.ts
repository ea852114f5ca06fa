// What the admin handlers (the Admin service, the status and metrics pages)
// need of a node: a narrow view of BrokerNode, as the cluster has ClusterHost,
// so this folder does not import node.ts and node.ts can import it.
import type { NodeConfig } from '../../config/load.js'
import type { Settings } from '../../config/settings.js'
import type { Cluster } from '../../cluster/cluster.js'
import type { ApiKeys } from '../api-keys.js'
import type { AuthChain } from '../auth/chain.js'
import type { Bridges } from '../bridge/bridges.js'
import type { BrokerCounters } from '../counters.js'
import type { Instance } from '../instance.js'
import type { ListenerRegistry } from '../listeners/registry.js'
import type { clusterListenerRow } from '../listeners/show.js'
import type { ListenerInfo } from '../listeners/types.js'
import type { Logger } from '../log.js'
import type { MonitoringSource } from '../monitoring/http.js'
import type { HttpRoutes } from '../monitoring/routes.js'
import type { Plugins } from '../plugins.js'
import type { SessionRegistry } from '../sessions.js'
import type { Tracer } from '../trace/tracer.js'

export interface AdminHost {
  readonly name: string
  readonly config: NodeConfig
  readonly settings: Settings
  readonly log: Logger
  readonly cluster: Cluster
  readonly listeners: ListenerRegistry
  readonly sessions: SessionRegistry
  readonly plugins: Plugins
  readonly bridges: Bridges
  readonly chain: AuthChain
  readonly counters: BrokerCounters
  readonly tracer: Tracer
  readonly apiKeys: ApiKeys
  readonly http: HttpRoutes
  /** the aedes instance of a mountpoint, made on first use */
  instance: (mountpoint: string) => Promise<Instance>
  /** the instance of a mountpoint only if one runs */
  existingInstance: (mountpoint: string) => Promise<Instance | undefined>
  allInstances: () => Promise<Instance[]>
  monitoringSource: () => MonitoringSource
  clusterListenerRow: () => ReturnType<typeof clusterListenerRow>
  clusterPort: () => number
  listenerInfo: () => ListenerInfo[]
  stop: () => Promise<void>
}
