// aedes publishes a will with the properties of the CONNECT's will, Will Delay
// Interval included; that property belongs to CONNECT only and clients reject a
// PUBLISH carrying it (MQTT 5 §3.3.2.3 lists the PUBLISH properties). The
// delay a CONNECT asks for may be capped (max_last_will_delay).
interface WithProperties { properties?: Record<string, unknown> }

/** Removes the Will Delay Interval from a PUBLISH about to be published; the other properties stay. */
export function withoutWillDelay (packet: WithProperties): void {
  const properties = packet.properties
  if (properties?.willDelayInterval === undefined) return
  const { willDelayInterval: _delay, ...rest } = properties
  packet.properties = rest
}

/** max_last_will_delay: a will's delay beyond `maxSeconds` is cut to it (null: as the client asks). */
export function capWillDelay (will: WithProperties | null | undefined, maxSeconds: number | null): void {
  const properties = will?.properties
  const delay = properties?.willDelayInterval
  if (maxSeconds === null || properties === undefined || typeof delay !== 'number' || delay <= maxSeconds) return
  properties.willDelayInterval = maxSeconds
}
