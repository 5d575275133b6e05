/**
 * metrics.k8s.io as a signal source, against the fake API server: usage becomes cpuRatio (cores
 * ÷ the pod's cpu size) and memoryMiB per pod, with the sample's time and window; a pod with no
 * metrics yet is missing, and an API that fails is "no metrics" (undefined), never an error.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import * as k8s from '@kubernetes/client-node'
import { PodMetricsSignals } from '../../src/runtime/pod-metrics.ts'
import { KubeClient } from '../../src/providers/kubernetes/kube-client.ts'
import { FakeKubeApiServer } from '../support/fake-kube-apiserver.ts'

const fake = new FakeKubeApiServer({ startDelayMs: 50 })
let client: KubeClient
let pods: string[] = []

before(async () => {
  await fake.start()
  const kc = new k8s.KubeConfig()
  kc.loadFromString(fake.kubeconfig())
  client = new KubeClient(kc)
  fake.create('deployments', 'default', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'x' }, { name: 'sidecar', image: 'y' }] } } },
  })
  const end = Date.now() + 5000
  while (Date.now() < end && pods.length < 2) {
    pods = fake.pods('default').filter((p) => (p.status as { phase?: string }).phase === 'Running').map((p) => p.metadata.name)
    await sleep(50)
  }
  assert.equal(pods.length, 2)
})

after(async () => {
  await fake.stop()
})

test('usage per pod: cpu as a share of the pod size, memory in MiB, with the window; the named container only', async () => {
  const [a = '', b = ''] = pods
  fake.setUsage(a, { cpuMilli: 300, memoryMiB: 200 })
  const source = new PodMetricsSignals({ client, namespace: 'default', container: 'web' })
  await source.refresh()
  const nowMs = Date.now()
  const s = source.read(undefined, [{ id: a, size: { cpu: 0.5 } }, { id: b, size: { cpu: 1 } }, { id: 'web~pending-1', size: { cpu: 1 } }], nowMs)
  assert.ok(s)
  // 300 m used of a 0.5-core pod: 0.3 / 0.5 = 0.6
  assert.ok(Math.abs((s.instances.get(a)?.cpuRatio ?? 0) - 0.6) < 1e-9)
  assert.equal(s.instances.get(a)?.memoryMiB, 200)
  assert.equal(s.instances.get(a)?.cpuWindowMs, 15_000)
  assert.ok(s.instances.get(a)?.cpuAtMs !== undefined && s.instances.get(a)!.cpuAtMs! <= nowMs)
  assert.equal(s.instances.get(b)?.cpuRatio, 0)
  assert.equal(s.instances.has('web~pending-1'), false, 'a pod with no metrics is missing')
})

test('an API that fails or is slow is "no metrics", not an error', async () => {
  const failing = new PodMetricsSignals({ client: { podUsage: () => Promise.reject(new Error('the server could not find the requested resource')) }, namespace: 'default' })
  await failing.refresh()
  assert.equal(failing.read(undefined, [{ id: 'x', size: { cpu: 1 } }], Date.now()), undefined)
  assert.match(failing.lastError ?? '', /could not find/)
  const slow = new PodMetricsSignals({ client: { podUsage: () => new Promise(() => undefined) }, namespace: 'default', timeoutMs: 100 })
  await slow.refresh()
  assert.equal(slow.read(undefined, [], Date.now()), undefined)
  assert.match(slow.lastError ?? '', /did not answer within 100 ms/)
})
