/**
 * KubeClient's own behaviour against the fake API server (real HTTP on 127.0.0.1): every call is
 * bounded in time, so an API server that takes a request and never answers fails the call (a
 * retryable PlatformApiError) instead of hanging the tick that made it.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import * as k8s from '@kubernetes/client-node'
import { isProviderError } from '../../../src/providers/errors.ts'
import { KubeClient } from '../../../src/providers/kubernetes/kube-client.ts'
import { FakeKubeApiServer } from '../../support/fake-kube-apiserver.ts'

const cases = [
  { name: 'read the scale', call: (c: KubeClient) => c.readScale({ kind: 'Deployment', namespace: 'default', name: 'web' }) },
  { name: 'set the replicas', call: (c: KubeClient) => c.replaceScale({ kind: 'Deployment', namespace: 'default', name: 'web' }, 3, '1') },
  { name: 'read a lease', call: (c: KubeClient) => c.readLease('default', 'tide') },
  { name: 'read pod metrics', call: (c: KubeClient) => c.podUsage('default') },
] as const

for (const c of cases) {
  test(`a call the API server never answers fails within the request timeout: ${c.name}`, { timeout: 20_000 }, async () => {
    const fake = new FakeKubeApiServer()
    await fake.start()
    try {
      fake.create('deployments', 'default', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'x' }] } } } })
      const kc = new k8s.KubeConfig()
      kc.loadFromString(fake.kubeconfig())
      const client = new KubeClient(kc, { requestTimeoutMs: 300 })
      fake.inject({ status: 'hang', count: 1 })
      const t0 = performance.now()
      const err = await c.call(client).then(
        () => undefined,
        (e: unknown) => e,
      )
      const ms = performance.now() - t0
      assert.ok(isProviderError(err), `expected a provider error, got ${String(err)}`)
      assert.equal(err.retryable, true, err.message)
      assert.ok(ms >= 250 && ms < 5000, `failed after ${Math.round(ms)} ms (timeout 300 ms)`)
    } finally {
      await fake.stop()
    }
  })
}
