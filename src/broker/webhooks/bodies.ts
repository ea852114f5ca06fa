// The JSON bodies of the hook calls, with VerneMQ's field names and order.
// MQTT 5 PUBLISH properties are passed on under VerneMQ's names (see
// publishProperties), and so are those of a CONNECT; SUBSCRIBE and
// UNSUBSCRIBE `properties` are {}.
import type { HookName, WebhookSpec } from '../../config/webhooks.js'
import type { ClientEvent, ClientInfo, PublishRequest, SubscribeRequest } from '../auth/types.js'

type Body = Record<string, unknown>

function m5 (hook: HookName): boolean {
  return hook.endsWith('_m5')
}

/**
 * A PUBLISH's properties as VerneMQ writes them: p_* names, the payload format
 * as utf8/unspecified, user properties as a list of {key, val}, both base64
 * (VerneMQ encodes them whatever base64encode says), correlation data as text.
 * Topic aliases are the connection's business and left out.
 */
export function publishProperties (props: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  if (props === undefined) return out
  const b64 = (v: unknown): string => Buffer.from(String(v)).toString('base64')
  if (props.payloadFormatIndicator !== undefined) out.p_payload_format_indicator = props.payloadFormatIndicator === true || props.payloadFormatIndicator === 1 ? 'utf8' : 'unspecified'
  if (props.messageExpiryInterval !== undefined) out.p_message_expiry_interval = props.messageExpiryInterval
  if (props.contentType !== undefined) out.p_content_type = props.contentType
  if (props.responseTopic !== undefined) out.p_response_topic = props.responseTopic
  if (Buffer.isBuffer(props.correlationData)) out.p_correlation_data = props.correlationData.toString('utf8')
  if (props.subscriptionIdentifier !== undefined) out.p_subscription_id = ([] as unknown[]).concat(props.subscriptionIdentifier)
  const user = props.userProperties
  if (typeof user === 'object' && user !== null) {
    out.p_user_property = Object.entries(user).flatMap(([key, value]) => ([] as unknown[]).concat(value).map(v => ({ key: b64(key), val: b64(v) })))
  }
  return out
}

/** A CONNECT's properties as VerneMQ writes them (authentication data base64, user properties as for a PUBLISH). */
export function connectProperties (props: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  if (props === undefined) return out
  const names: Array<[string, string]> = [
    ['sessionExpiryInterval', 'p_session_expiry_interval'], ['receiveMaximum', 'p_receive_max'], ['maximumPacketSize', 'p_max_packet_size'],
    ['topicAliasMaximum', 'p_topic_alias_max'], ['authenticationMethod', 'p_authentication_method']
  ]
  for (const [from, to] of names) if (props[from] !== undefined) out[to] = props[from]
  if (props.requestResponseInformation !== undefined) out.p_request_response_info = props.requestResponseInformation === true || props.requestResponseInformation === 1
  if (props.requestProblemInformation !== undefined) out.p_request_problem_info = props.requestProblemInformation === true || props.requestProblemInformation === 1
  if (Buffer.isBuffer(props.authenticationData)) out.p_authentication_data = props.authenticationData.toString('base64')
  const user = publishProperties({ userProperties: props.userProperties }).p_user_property
  if (user !== undefined) out.p_user_property = user
  return out
}

/** on_auth_m5: who asks, and the properties of its CONNECT or AUTH (authentication data base64). */
export function authBody (client: ClientInfo, properties: Record<string, unknown>): Body {
  const props = connectProperties(properties)
  if (typeof properties.reasonString === 'string') props.p_reason_string = properties.reasonString
  return { username: client.username ?? null, mountpoint: client.mountpoint, client_id: client.clientId, properties: props }
}

function payloadText (payload: Buffer, spec: WebhookSpec): string {
  return spec.base64Payload ? payload.toString('base64') : payload.toString('utf8')
}

export function registerBody (client: ClientInfo, password: Buffer | undefined, hook: HookName): Body {
  const body: Body = {
    peer_addr: client.peerHost ?? null,
    peer_port: client.peerPort ?? null,
    mountpoint: client.mountpoint,
    client_id: client.clientId,
    username: client.username ?? null,
    password: password === undefined ? null : password.toString('utf8')
  }
  if (m5(hook)) {
    body.clean_start = client.clean ?? true
    body.properties = connectProperties(client.connectProperties)
  } else {
    body.clean_session = client.clean ?? true
  }
  return body
}

export function publishBody (client: ClientInfo, req: PublishRequest, hook: HookName, spec: WebhookSpec): Body {
  const body: Body = {
    username: client.username ?? null,
    mountpoint: client.mountpoint,
    client_id: client.clientId,
    qos: req.qos,
    topic: req.topic
  }
  if (!spec.noPayload) body.payload = payloadText(req.payload ?? Buffer.alloc(0), spec)
  body.retain = req.retain
  if (m5(hook)) body.properties = publishProperties(req.properties)
  return body
}

export function subscribeBody (client: ClientInfo, subs: SubscribeRequest[], hook: HookName): Body {
  const body: Body = {
    username: client.username ?? null,
    mountpoint: client.mountpoint,
    client_id: client.clientId,
    topics: subs.map(s => ({ topic: s.topic, qos: s.qos }))
  }
  if (m5(hook)) body.properties = {}
  return body
}

/** The hook an event is told to: the _m5 variant for MQTT 5 clients where VerneMQ has one. */
export function eventHook (event: ClientEvent): HookName {
  const v5 = event.client.protocolVersion === 5
  switch (event.kind) {
    case 'register': return v5 ? 'on_register_m5' : 'on_register'
    case 'publish': return v5 ? 'on_publish_m5' : 'on_publish'
    case 'subscribe': return v5 ? 'on_subscribe_m5' : 'on_subscribe'
    case 'unsubscribe': return v5 ? 'on_unsubscribe_m5' : 'on_unsubscribe'
    case 'deliver': return v5 ? 'on_deliver_m5' : 'on_deliver'
    case 'wakeup': return 'on_client_wakeup'
    case 'offline': return 'on_client_offline'
    case 'gone': return 'on_client_gone'
    case 'expired': return 'on_session_expired'
    case 'offline_message': return 'on_offline_message'
  }
}

export function eventBody (event: ClientEvent, hook: HookName, spec: WebhookSpec): Body {
  const { client } = event
  const who = { mountpoint: client.mountpoint, client_id: client.clientId }
  const user = { username: client.username ?? null, ...who }
  const props = m5(hook) ? { properties: {} } : {}
  switch (event.kind) {
    case 'register':
      return { peer_addr: client.peerHost ?? null, peer_port: client.peerPort ?? null, ...who, username: client.username ?? null, ...(m5(hook) ? { properties: connectProperties(client.connectProperties) } : {}) }
    case 'publish':
      return { ...user, qos: event.qos, topic: event.topic, payload: payloadText(event.payload, spec), retain: event.retain, ...(m5(hook) ? { properties: publishProperties(event.properties) } : {}) }
    case 'deliver':
      // VerneMQ's on_deliver carries the message properties for 3.1.1 clients too
      return { ...user, qos: event.qos, topic: event.topic, payload: payloadText(event.payload, spec), retain: event.retain, properties: publishProperties(event.properties) }
    case 'subscribe':
      return { ...user, topics: event.topics.map(t => ({ topic: t.topic, qos: t.qos })), ...props }
    case 'unsubscribe':
      return { ...user, topics: event.topics, ...props }
    case 'offline_message':
      return { ...who, qos: event.qos, topic: event.topic, payload: payloadText(event.payload, spec), retain: event.retain }
    case 'wakeup':
    case 'offline':
    case 'gone':
    case 'expired':
      return who
  }
}
