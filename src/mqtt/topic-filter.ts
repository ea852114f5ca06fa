// Whether a SUBSCRIBE/UNSUBSCRIBE topic filter is well formed (MQTT 5 §4.7):
// at least one character (MQTT-4.7.3-1), '#' only as the whole last level
// (MQTT-4.7.1-1), '+' only as a whole level (MQTT-4.7.1-2).
export function isValidTopicFilter (filter: string): boolean {
  if (filter.length === 0) return false
  const levels = filter.split('/')
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) return false
    if (level.includes('+') && level !== '+') return false
  }
  return true
}
