// A line of configuration and a problem found in one: what the parser, the
// include and bridge readers and the loader pass between them.

/** A problem with a configuration line, reported as `file:line: key: message`. */
export interface Problem {
  file: string
  line: number
  key?: string
  message: string
}

/** One `key = value` line with where it came from. */
export interface Entry {
  key: string
  value: string
  file: string
  line: number
}
