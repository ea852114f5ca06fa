import { test } from 'node:test'
import assert from 'node:assert/strict'
import pino from 'pino'
import type { ListenerConfig } from '../../../src/config/load.js'
import type { ListenerContext } from '../../../src/broker/listeners/types.js'
import { TcpListener } from '../../../src/broker/listeners/tcp.js'
import { WsListener } from '../../../src/broker/listeners/ws.js'
import { endpointFor, hostOf, mqttEndpoints } from '../../../src/broker/server-reference.js'

const ctx: ListenerContext = { accept: () => {}, log: pino({ level: 'silent' }) }

function config (type: ListenerConfig['type'], host: string, port: number, mountpoint?: string): ListenerConfig {
  return { type, name: 'default', host, port, options: new Map(mountpoint === undefined ? [] : [['mountpoint', mountpoint]]) }
}

// listeners built, never started: nothing binds
test('mqttEndpoints: tcp first, ws as a URL, wildcard hosts named by the given host, suspended ones left out', async () => {
  const ws = new WsListener(config('ws', '::', 8080), ctx)
  const tcp = new TcpListener(config('tcp', '0.0.0.0', 1883), ctx)
  const local = new TcpListener(config('tcp', '::1', 1884, 'tenant/'), ctx)
  const stopped = new TcpListener(config('tcp', '127.0.0.1', 1885), ctx)
  stopped.status = 'suspended'
  assert.deepEqual(mqttEndpoints([ws, tcp, local, stopped], 'node1.example'), [
    { kind: 'mqtt', address: 'node1.example:1883', mountpoint: '' },
    { kind: 'mqtt', address: '[::1]:1884', mountpoint: 'tenant' },
    { kind: 'mqttws', address: 'ws://node1.example:8080/mqtt', mountpoint: '' }
  ])
})

test('endpointFor: the transport and mountpoint of the client, else none', () => {
  const endpoints = [
    { kind: 'mqtt', address: 'a:1883', mountpoint: 'tenant' },
    { kind: 'mqtt', address: 'b:1883', mountpoint: '' },
    { kind: 'mqttws', address: 'ws://b:8080/mqtt', mountpoint: '' }
  ]
  assert.equal(endpointFor(endpoints, 'mqtt', ''), 'b:1883')
  assert.equal(endpointFor(endpoints, 'mqtt', 'tenant'), 'a:1883')
  assert.equal(endpointFor(endpoints, 'mqttws', ''), 'ws://b:8080/mqtt')
  assert.equal(endpointFor(endpoints, 'mqtts', ''), undefined)
  assert.equal(endpointFor(endpoints, 'mqttws', 'tenant'), undefined)
})

test('hostOf: the host of host:port and [v6]:port', () => {
  assert.equal(hostOf('127.0.0.1:44053'), '127.0.0.1')
  assert.equal(hostOf('[::1]:44053'), '::1')
  assert.equal(hostOf('node1.example:44053'), 'node1.example')
})
