import type { Server } from 'node:net'
import type { ListenerConfig } from '../../config/load.js'
import { describeAddress } from './types.js'
import { InvalidRequest } from '../../errors.js'

export class ListenError extends InvalidRequest {}

/**
 * Binds a server to the listener's address, turning bind failures into one
 * clear line that starts with `key = address` (just the address without a key).
 */
export async function listenOn (server: Server, config: Pick<ListenerConfig, 'host' | 'port'>, key: string | undefined): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      const reason = err.code === 'EADDRINUSE'
        ? 'address already in use'
        : err.code === 'EADDRNOTAVAIL' ? 'address not available on this host' : err.message
      const where = key === undefined ? describeAddress(config) : `${key} = ${describeAddress(config)}`
      reject(new ListenError(`${where}: cannot listen: ${reason}`))
    }
    server.once('error', onError)
    server.listen(config.port, config.host, () => {
      server.off('error', onError)
      resolve()
    })
  })
}

export function boundPort (server: Server, fallback: number): number {
  const address = server.address()
  return typeof address === 'object' && address !== null ? address.port : fallback
}
