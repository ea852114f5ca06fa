// The plain-aedes peer: the aedes version vmq-ts is built on, default (memory) persistence,
// one TCP listener on 127.0.0.1. Usage: node plain-aedes.js <port>
import { createServer } from 'node:net'
import { Aedes } from 'aedes'

const broker = await Aedes.createBroker()
createServer(broker.handle).listen(Number(process.argv[2]), '127.0.0.1')
process.on('SIGTERM', () => process.exit(0))
// stdin is a pipe from the runner: when it closes, the runner is gone.
process.stdin.on('close', () => process.exit(0)).resume()
