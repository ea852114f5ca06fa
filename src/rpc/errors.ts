/** A refusal the caller caused (bad key, bad value): the CLI exits 1 with the message. */
export class InvalidRequest extends Error {}

/** The thing asked about does not exist here (a session, a plugin): NOT_FOUND, the CLI exits 1. */
export class NotFound extends Error {}
