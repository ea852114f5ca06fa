// Time as the delivery layer sees it: the current time and one-shot timers,
// given to the outbox (retries, message expiry, the keys of a loaded backlog)
// so its tests can move time by hand.

/** Stops a timer that has not fired yet. */
export type Cancel = () => void

export interface Clock {
  /** ms since the epoch */
  now: () => number
  /** Calls `fn` once after `ms`; the timer does not keep the process alive. */
  setTimer: (ms: number, fn: () => void) => Cancel
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimer (ms, fn) {
    const timer = setTimeout(fn, ms)
    timer.unref()
    return () => { clearTimeout(timer) }
  }
}
