import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { metricLines, metricsRows, metricsText } from '../../../src/cli/metrics.js'
import type { MetricSample__Output } from '../../../src/rpc/generated/vmq/MetricSample.js'

const sample = (node: string, name: string, labels: Record<string, string>, value: number, type = 'counter', help = `help of ${name}`): MetricSample__Output =>
  ({ node, name, type, help, labels, value })

const SAMPLES = [
  sample('a@h', 'mqtt_publish_received', { mqtt_version: '4' }, 3),
  sample('a@h', 'mqtt_publish_received', { mqtt_version: '5' }, 1),
  sample('a@h', 'sessions_online', {}, 2, 'gauge'),
  sample('a@h', 'gc_seconds_bucket', { le: '0.1' }, 4, 'histogram'),
  sample('a@h', 'gc_seconds_bucket', { le: '+Inf' }, 5, 'histogram'),
  sample('b@h', 'mqtt_publish_received', { mqtt_version: '4' }, 10),
  sample('b@h', 'mqtt_publish_received', { mqtt_version: '5' }, 0),
  sample('b@h', 'sessions_online', {}, 1, 'gauge'),
  sample('b@h', 'process_cpu_seconds_total', {}, 0.1234567)
]

describe('metrics show output', () => {
  it('sums over labels and members by default, histogram buckets named by their bound', () => {
    const view = { aggregate: true, descriptions: false, filters: {} }
    assert.equal(metricsText(metricLines(SAMPLES, view), view), [
      'counter.mqtt_publish_received = 14',
      'gauge.sessions_online = 3',
      'histogram.gc_seconds_bucket_0.1 = 4',
      'histogram.gc_seconds_bucket_infinity = 5',
      'counter.process_cpu_seconds_total = 0.123457',
      ''
    ].join('\n'))
  })

  it('--aggregate=false: one line per member and label set; a label filter keeps the series that have it', () => {
    const view = { aggregate: false, descriptions: false, filters: { mqtt_version: '4' } }
    assert.equal(metricsText(metricLines(SAMPLES, view), view), [
      'counter.mqtt_publish_received{mqtt_version="4",node="a@h"} = 3',
      'counter.mqtt_publish_received{mqtt_version="4",node="b@h"} = 10',
      ''
    ].join('\n'))
  })

  it('-d: the description before each metric, a blank line between metrics', () => {
    const view = { aggregate: true, descriptions: true, filters: { mqtt_version: '5' } }
    const two = [...SAMPLES, sample('a@h', 'mqtt_connack_sent', { mqtt_version: '5', reason_code: 'success' }, 7)]
    assert.equal(metricsText(metricLines(two, view), view), [
      '# help of mqtt_publish_received',
      'counter.mqtt_publish_received = 1',
      '',
      '# help of mqtt_connack_sent',
      'counter.mqtt_connack_sent = 7',
      ''
    ].join('\n'))
  })

  it('JSON rows: type, name, value (and node, labels when not summed)', () => {
    const view = { aggregate: false, descriptions: false, filters: { mqtt_version: '5' } }
    assert.deepEqual(metricsRows(metricLines(SAMPLES, view), view), {
      columns: ['type', 'name', 'node', 'labels', 'value'],
      rows: [
        { type: 'counter', name: 'mqtt_publish_received', node: 'a@h', labels: 'mqtt_version="5"', value: 1 },
        { type: 'counter', name: 'mqtt_publish_received', node: 'b@h', labels: 'mqtt_version="5"', value: 0 }
      ]
    })
  })
})
