// Worker thread body for bcrypt-verify.ts: bcrypt is pure JavaScript here and
// takes tens of milliseconds per check, so it runs away from the event loop.
import { parentPort } from 'node:worker_threads'
import bcrypt from 'bcryptjs'

export interface BcryptRequest { id: number, password: string, hash: string }
export interface BcryptReply { id: number, ok: boolean, error?: string }

parentPort?.on('message', (req: BcryptRequest) => {
  let reply: BcryptReply
  try {
    reply = { id: req.id, ok: bcrypt.compareSync(req.password, req.hash) }
  } catch (err) {
    reply = { id: req.id, ok: false, error: (err as Error).message }
  }
  parentPort?.postMessage(reply)
})
