import { test } from 'node:test'
import assert from 'node:assert/strict'
import { HttpRoutes } from '../../../../src/broker/monitoring/routes.js'

test('exact paths first, then the longest prefix route; a path is registered once', () => {
  const routes = new HttpRoutes()
  const handle = (): void => {}
  routes.add({ path: '/health', module: 'vmq_health_http', handle })
  routes.add({ path: '/status', prefix: true, module: 'vmq_status_http', handle })
  routes.add({ path: '/status/api', prefix: true, module: 'vmq_metrics_http', handle })
  assert.equal(routes.find('/health')?.path, '/health')
  assert.equal(routes.find('/health/x'), undefined)
  assert.equal(routes.find('/status')?.path, '/status')
  assert.equal(routes.find('/status/app.js')?.path, '/status')
  assert.equal(routes.find('/status/api/x')?.path, '/status/api')
  assert.equal(routes.find('/statusx'), undefined)
  assert.throws(() => { routes.add({ path: '/health', module: 'vmq_health_http', handle }) }, /registered twice/)
})
