// The TraceClient call: traces the client id on this node and, unless asked by
// a peer, on every running member at once (the client may be connected to any
// of them, or connect to any later), all lines in one stream. The call runs
// until the caller goes away; then every trace it started stops.
import * as grpc from '@grpc/grpc-js'
import { FANOUT_DEADLINE_MS } from '../../cluster/fanout.js'
import { InvalidRequest } from '../../errors.js'
import type { TraceLine, TraceLine__Output } from '../../rpc/generated/vmq/TraceLine.js'
import type { TraceRequest__Output } from '../../rpc/generated/vmq/TraceRequest.js'
import { toStatus } from '../../rpc/server.js'
import type { AdminHost } from './host.js'
import { TraceOutput } from '../trace/output.js'
import type { TraceOptions } from '../trace/tracer.js'

type TraceCall = grpc.ServerWritableStream<TraceRequest__Output, TraceLine>

export function traceClient (node: AdminHost, call: TraceCall): void {
  let options: TraceOptions
  try {
    options = traceOptions(call.request)
  } catch (err) {
    call.emit('error', toStatus(err as Error))
    return
  }
  const local = call.request.localOnly
  const output = new TraceOutput(call, !local)
  const stops: Array<() => void> = [node.tracer.start(options, output, () => { call.end() })]
  let stopped = false
  const stop = (): void => {
    if (stopped) return
    stopped = true
    output.close()
    for (const s of stops) s()
    node.log.info({ client_id: options.clientId, mountpoint: options.mountpoint }, 'trace stopped')
  }
  call.on('cancelled', stop)
  call.on('close', stop)
  call.on('finish', stop)
  call.on('error', stop)
  node.log.info({ client_id: options.clientId, mountpoint: options.mountpoint }, 'trace started')
  const here = node.sessions.connections(options.mountpoint, options.clientId).length > 0
  if (local) {
    call.write({ text: '', found: here })
    return
  }
  const found: string[] = here ? [node.name] : []
  const warnings: string[] = []
  const peers = node.cluster.peers()
  let waitingFor = 0
  let summarised = false
  const summarise = (): void => {
    if (summarised || stopped) return
    summarised = true
    clearTimeout(timer)
    output.release([...warnings.map(w => ({ text: `Warning: ${w}` })), { text: summary(options, found) }])
  }
  const timer = setTimeout(summarise, FANOUT_DEADLINE_MS)
  timer.unref()
  for (const peer of peers) {
    if (!peer.running) {
      warnings.push(`node ${peer.name} is not running (${peer.reason}): not traced there`)
      continue
    }
    waitingFor++
    const client = node.cluster.adminClient(peer.address)
    const stream = client.open<TraceRequest__Output, TraceLine__Output>('TraceClient', { ...call.request, localOnly: true })
    let answered = false
    const answer = (): void => {
      if (answered) return
      answered = true
      if (--waitingFor === 0) summarise()
    }
    stream.on('data', (line: TraceLine__Output) => {
      if (line.found === undefined || line.found === null) {
        output.write({ text: line.text })
        return
      }
      if (line.found) found.push(peer.name)
      answer()
    })
    let over = false
    const ended = (why: string): void => {
      if (over) return
      over = true
      if (stopped) return
      if (!answered) warnings.push(`node ${peer.name} ${why}: not traced there`)
      else output.write({ text: `Warning: the trace on node ${peer.name} ended: ${why}` })
      answer()
    }
    stream.on('error', (err: grpc.ServiceError) => {
      if (err.code === grpc.status.CANCELLED && stopped) return
      client.describe(err).then(f => { ended(f.message) }, () => { ended(err.message) })
    })
    stream.on('end', () => { ended('the node stopped tracing') })
    stops.push(() => { stream.cancel() })
  }
  if (waitingFor === 0) summarise()
}

function summary (options: TraceOptions, found: string[]): string {
  const where = options.mountpoint === '' ? '' : ` in mountpoint ${JSON.stringify(options.mountpoint)}`
  if (found.length === 0) return `No sessions found for client ${JSON.stringify(options.clientId)}${where}; waiting for it to connect`
  return `Session found for client ${JSON.stringify(options.clientId)}${where} on ${found.join(', ')}`
}

/** VerneMQ's defaults: 10 lines per 100 ms, payloads cut at 200 bytes. */
function traceOptions (request: TraceRequest__Output): TraceOptions {
  if (request.clientId === '') throw new InvalidRequest('You have to provide a client-id (client-id=<id>)')
  return {
    clientId: request.clientId,
    mountpoint: request.mountpoint,
    rateMax: request.rateMax === 0 ? 10 : request.rateMax,
    rateIntervalMs: request.rateIntervalMs === 0 ? 100 : request.rateIntervalMs,
    truncPayload: request.truncPayload === 0 ? 200 : request.truncPayload
  }
}
