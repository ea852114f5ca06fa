// The MQTT 5 properties of a message as they travel between nodes (the
// `Properties` message of proto/vmq.proto) and back into the shape aedes and
// mqtt-packet use. The Message Expiry Interval travels as the milliseconds left
// (see the proto); the receiver turns that into its own absolute expiry
// (aedes' `messageExpiry`) and the interval its subscribers see.
import type { IPublishPacket } from 'mqtt-packet'
import type { Properties } from '../rpc/generated/vmq/Properties.js'

export type PublishProperties = NonNullable<IPublishPacket['properties']>

/** What a message carries besides topic, payload and flags: its properties and absolute expiry (ms epoch). */
export interface MessageExtras {
  properties?: PublishProperties
  messageExpiry?: number
}

/** The wire form of a message's properties; undefined when it has none (3.1.1 messages allocate nothing). */
export function propertiesToWire (message: MessageExtras, now: number): Properties | undefined {
  const p = message.properties
  if (p === undefined || p === null) return undefined
  const wire: Properties = {}
  if (p.userProperties !== undefined) wire.userProperties = userPropertiesToWire(p.userProperties)
  if (p.contentType !== undefined) wire.contentType = p.contentType
  if (p.responseTopic !== undefined) wire.responseTopic = p.responseTopic
  if (p.correlationData !== undefined) wire.correlationData = p.correlationData
  if (p.payloadFormatIndicator !== undefined) wire.payloadFormatIndicator = p.payloadFormatIndicator
  const left = expiresIn(message, now)
  if (left !== undefined) wire.expiryMs = Math.max(left, 0)
  return wire
}

/** ms the message has left to live; undefined when it does not expire. */
export function expiresIn (message: MessageExtras, now: number): number | undefined {
  if (message.messageExpiry !== undefined) return message.messageExpiry - now
  const interval = message.properties?.messageExpiryInterval
  return interval !== undefined && interval > 0 ? interval * 1000 : undefined
}

/** Whether the message's lifetime is over (MQTT-3.3.2-5: it is not delivered). */
export function isExpired (message: MessageExtras, now: number): boolean {
  const left = expiresIn(message, now)
  return left !== undefined && left <= 0
}

/** The properties and absolute expiry of a message received from a peer; {} when it has none. */
export function propertiesFromWire (wire: Properties | null | undefined, now: number): MessageExtras {
  if (wire === null || wire === undefined) return {}
  const properties: PublishProperties = {}
  const user = wire.userProperties ?? []
  if (user.length > 0) properties.userProperties = userPropertiesFromWire(user)
  if (wire.contentType !== undefined) properties.contentType = wire.contentType
  if (wire.responseTopic !== undefined) properties.responseTopic = wire.responseTopic
  if (wire.correlationData !== undefined) properties.correlationData = Buffer.from(wire.correlationData)
  if (wire.payloadFormatIndicator !== undefined) properties.payloadFormatIndicator = wire.payloadFormatIndicator
  if (wire.expiryMs === undefined) return { properties }
  const left = Number(wire.expiryMs)
  // the interval a subscriber sees is whole seconds, at least 1 while the message lives
  properties.messageExpiryInterval = Math.max(Math.ceil(left / 1000), 1)
  return { properties, messageExpiry: now + left }
}

type UserProperties = NonNullable<PublishProperties['userProperties']>

function userPropertiesToWire (user: UserProperties): Array<{ name: string, value: string }> {
  const out: Array<{ name: string, value: string }> = []
  for (const name of Object.keys(user)) {
    const value = user[name]
    if (Array.isArray(value)) for (const v of value) out.push({ name, value: v })
    else out.push({ name, value })
  }
  return out
}

/** As mqtt-packet parses them: one key per name, an array when a name repeats. */
function userPropertiesFromWire (pairs: Array<{ name?: string, value?: string }>): UserProperties {
  // no prototype: a user property may be called __proto__
  const out = Object.create(null) as Record<string, string | string[]>
  for (const { name = '', value = '' } of pairs) {
    const known = out[name]
    if (known === undefined) out[name] = value
    else if (Array.isArray(known)) known.push(value)
    else out[name] = [known, value]
  }
  return out
}
