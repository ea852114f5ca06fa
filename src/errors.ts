// The failures the product expects (an operator's mistake, something that does
// not exist here), each with a code. Code anywhere throws these; only
// src/rpc/server.ts turns a code into a gRPC status, and the CLI turns that
// status into its exit code. Anything else thrown is an internal failure.

export type ErrorCode = 'invalid' | 'not_found'

export class CodedError extends Error {
  constructor (readonly code: ErrorCode, message: string) {
    super(message)
  }
}

/** A refusal the caller caused (bad key, bad value, a listener that cannot start). */
export class InvalidRequest extends CodedError {
  constructor (message: string) {
    super('invalid', message)
  }
}

/** The thing asked about does not exist here (a session, a plugin). */
export class NotFound extends CodedError {
  constructor (message: string) {
    super('not_found', message)
  }
}
