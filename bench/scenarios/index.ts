// Which code runs each scenario, and on which brokers.
import { peerHasCluster } from '../peers/launch.js'
import type { ScenarioName } from '../report/result.js'
import { runFlow } from './flow.js'
import { runPersistent } from './persistent.js'
import { runStorm } from './storm.js'
import type { Outcome, Session } from './session.js'

export async function runScenario (session: Session, scenario: ScenarioName): Promise<Outcome> {
  switch (scenario) {
    case 'fan-in':
    case 'fan-out':
    case 'pairs': {
      const broker = await session.launch()
      return await runFlow(session, { paired: scenario === 'pairs', publisherBroker: broker, subscriberBrokers: [broker] })
    }
    case 'cross-node':
    case 'cluster-fan-out': {
      if (!peerHasCluster(session.o.peer)) return { metrics: {}, skipped: `${session.o.peer} has no cluster: ${scenario} runs only on vmq` }
      if (scenario === 'cross-node') {
        // both nodes share the broker core: the same CPU budget as one node
        const a = await session.launch({ nodename: 'bencha@127.0.0.1' })
        const b = await session.launch({ nodename: 'benchb@127.0.0.1', joinTo: a })
        return await runFlow(session, { paired: false, publisherBroker: a, subscriberBrokers: [b] })
      }
      // each node on its own core, the subscribers split between them
      const a = await session.launch({ nodename: 'bencha@127.0.0.1' })
      const b = await session.launch({ nodename: 'benchb@127.0.0.1', joinTo: a, core: session.o.generatorCore })
      return await runFlow(session, { paired: false, publisherBroker: a, subscriberBrokers: [a, b] })
    }
    case 'storm': return await runStorm(session)
    case 'persistent': return await runPersistent(session)
  }
}
