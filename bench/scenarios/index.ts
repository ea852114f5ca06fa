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
      return await runFlow(session, { paired: scenario === 'pairs', publisherBroker: broker, subscriberBroker: broker })
    }
    case 'cross-node': {
      if (!peerHasCluster(session.o.peer)) return { metrics: {}, skipped: `${session.o.peer} has no cluster: cross-node runs only on vmq` }
      const a = await session.launch('bencha@127.0.0.1')
      const b = await session.launch('benchb@127.0.0.1', a)
      return await runFlow(session, { paired: false, publisherBroker: a, subscriberBroker: b })
    }
    case 'storm': return await runStorm(session)
    case 'persistent': return await runPersistent(session)
  }
}
