// The per-packet-type counters of /metrics, named and labelled as VerneMQ's
// vmq_metrics: `mqtt_<type>_received|sent{mqtt_version}`, and for MQTT 5
// PUBACK, PUBREC, PUBREL, PUBCOMP, DISCONNECT and AUTH one series per reason code.
import type { BrokerCounters } from '../counters.js'

export type Series = Array<[Record<string, string>, number]>

/** VerneMQ's names of MQTT 5 reason codes (vmq_types_mqtt5.hrl, lower case) */
export const V5_REASON_CODES: Record<number, string> = {
  0x00: 'success', 0x04: 'disconnect_with_will_msg', 0x10: 'no_matching_subscribers', 0x11: 'no_subscription_existed',
  0x18: 'continue_authentication', 0x19: 'reauthenticate', 0x80: 'unspecified_error', 0x81: 'malformed_packet',
  0x82: 'protocol_error', 0x83: 'impl_specific_error', 0x84: 'unsupported_protocol_version', 0x85: 'client_identifier_not_valid',
  0x86: 'bad_username_or_password', 0x87: 'not_authorized', 0x88: 'server_unavailable', 0x89: 'server_busy', 0x8A: 'banned',
  0x8B: 'server_shutting_down', 0x8C: 'bad_authentication_method', 0x8D: 'keep_alive_timeout', 0x8E: 'session_taken_over',
  0x8F: 'topic_filter_invalid', 0x90: 'topic_name_invalid', 0x91: 'packet_id_in_use', 0x92: 'packet_id_not_found',
  0x93: 'receive_max_exceeded', 0x94: 'topic_alias_invalid', 0x95: 'packet_too_large', 0x96: 'message_rate_too_high',
  0x97: 'quota_exceeded', 0x98: 'administrative_action', 0x99: 'payload_format_invalid', 0x9A: 'retain_not_supported',
  0x9B: 'qos_not_supported', 0x9C: 'use_another_server', 0x9D: 'server_moved', 0x9E: 'shared_subs_not_supported',
  0x9F: 'connection_rate_exceeded', 0xA0: 'max_connect_time', 0xA1: 'subscription_ids_not_supported', 0xA2: 'wildcard_subs_not_supported'
}

const DISCONNECT = 14

function reasonName (type: number, code: number): string {
  if (type === DISCONNECT && code === 0) return 'normal_disconnect'
  return V5_REASON_CODES[code] ?? String(code)
}

/** What a packet type is counted by: `both` versions alike, or 3.1.1 plain and MQTT 5 by reason code, or MQTT 5 by reason code only. */
type Kind = 'both' | 'v4+reasons' | 'reasons'

interface PacketMetric { name: string, help: string, read: () => Series }

const RECEIVED: Array<[string, number, Kind]> = [
  ['connect', 1, 'both'], ['subscribe', 8, 'both'], ['unsubscribe', 10, 'both'], ['pingreq', 12, 'both'],
  ['puback', 4, 'v4+reasons'], ['pubrec', 5, 'v4+reasons'], ['pubrel', 6, 'v4+reasons'], ['pubcomp', 7, 'v4+reasons'],
  ['disconnect', 14, 'v4+reasons'], ['auth', 15, 'reasons']
]

const SENT: Array<[string, number, Kind]> = [
  ['suback', 9, 'both'], ['unsuback', 11, 'both'], ['pingresp', 13, 'both'],
  ['puback', 4, 'v4+reasons'], ['pubrec', 5, 'v4+reasons'], ['pubrel', 6, 'v4+reasons'], ['pubcomp', 7, 'v4+reasons'],
  ['disconnect', 14, 'reasons'], ['auth', 15, 'reasons']
]

export function packetMetrics (counters: BrokerCounters): PacketMetric[] {
  const metric = (direction: 'received' | 'sent', [type, code, kind]: [string, number, Kind]): PacketMetric => {
    const plain = direction === 'received' ? counters.packetsReceived : counters.packetsSent
    const byReason = direction === 'received' ? counters.reasonCodesReceived : counters.reasonCodesSent
    return {
      name: `mqtt_${type}_${direction}`,
      help: `${type.toUpperCase()} packets ${direction}${kind === 'both' ? '' : ' (MQTT 5: by reason code)'}.`,
      read: () => {
        const series: Series = []
        if (kind !== 'reasons') series.push([{ mqtt_version: '4' }, plain[0][code]])
        if (kind === 'both') {
          series.push([{ mqtt_version: '5' }, plain[1][code]])
          return series
        }
        if (!byReason.has(code * 256)) series.push([{ mqtt_version: '5', reason_code: reasonName(code, 0) }, 0])
        for (const [key, n] of byReason) {
          if (key >> 8 === code) series.push([{ mqtt_version: '5', reason_code: reasonName(code, key & 0xff) }, n])
        }
        return series
      }
    }
  }
  return [...RECEIVED.map(r => metric('received', r)), ...SENT.map(s => metric('sent', s))]
}
