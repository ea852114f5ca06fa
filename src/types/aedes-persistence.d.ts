// aedes-persistence's in-memory store, used as an async persistence by aedes 2.
declare module 'aedes-persistence/asyncPersistence.js' {
  export default class MemoryPersistence {
    constructor (opts?: Record<string, unknown>)
  }
}
