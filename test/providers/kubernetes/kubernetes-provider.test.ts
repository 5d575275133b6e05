/**
 * The kubernetes provider against the fake API server (test/support/fake-kube-apiserver.ts, real
 * HTTP on 127.0.0.1 through the real @kubernetes/client-node): the shared provider contract, then
 * what is Kubernetes' own: victims by pod-deletion-cost, 409 re-read and retry, 429 as a throttle,
 * a missing workload as a lasting config error, placeholders for replicas with no pod, in-place
 * resize or a template change, StatefulSets.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import * as k8s from '@kubernetes/client-node'
import { isProviderError, isThrottledError, retryAfterMsOf } from '../../../src/providers/errors.ts'
import { KubeClient } from '../../../src/providers/kubernetes/kube-client.ts'
import { KubernetesProvider, POD_DELETION_COST, VICTIM_COST } from '../../../src/providers/kubernetes/kubernetes-provider.ts'
import type { InstanceRecord } from '../../../src/providers/provider.ts'
import { GroupSchema, type GroupSpec } from '../../../src/spec/schema.ts'
import { FakeKubeApiServer, type FakeKubeOptions } from '../../support/fake-kube-apiserver.ts'
import { runProviderContract } from '../provider.contract.ts'

/** A Deployment (or StatefulSet) of `replicas` pods sized 1 cpu / 256 MiB by default. */
function workload(kind: 'Deployment' | 'StatefulSet', name: string, replicas: number, resources = { requests: { cpu: '1', memory: '256Mi' } }): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind,
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'shop:1', ports: [{ containerPort: 8080 }], resources }] } },
    },
  }
}

function group(name: string, kubernetes: Record<string, string>, extra: Record<string, unknown> = {}): GroupSpec {
  return GroupSchema.parse({ group: name, provider: 'kubernetes', kubernetes: { namespace: 'default', ...kubernetes }, size: { cpu: 1, memoryMiB: 256 }, ...extra })
}

/** A started fake, a client on it, and every provider made, stopped at the end. */
async function env(options: FakeKubeOptions = {}): Promise<{ fake: FakeKubeApiServer; client: KubeClient; provider: (o?: { inPlaceResize?: boolean; launchWaitMs?: number }) => KubernetesProvider; close: () => Promise<void> }> {
  const fake = new FakeKubeApiServer({ startDelayMs: 100, terminationDelayMs: 50, ...options })
  await fake.start()
  const kc = new k8s.KubeConfig()
  kc.loadFromString(fake.kubeconfig())
  const client = new KubeClient(kc)
  const made: KubernetesProvider[] = []
  return {
    fake,
    client,
    provider: (o = {}) => {
      const p = new KubernetesProvider({ client, ...o })
      made.push(p)
      return p
    },
    close: async () => {
      for (const p of made) await p.stop()
      await fake.stop()
    },
  }
}

/** Polls the provider's list until `done`; fails after `ms`. */
async function listUntil(p: KubernetesProvider, g: GroupSpec, what: string, done: (rs: InstanceRecord[]) => boolean, ms = 5000): Promise<InstanceRecord[]> {
  const end = Date.now() + ms
  let last: InstanceRecord[] = []
  while (Date.now() < end) {
    last = await p.list(g)
    if (done(last)) return last
    await sleep(50)
  }
  assert.fail(`${what}: not reached in ${ms} ms; last: ${JSON.stringify(last.map((r) => [r.id, r.status]))}`)
}

let contractClose: (() => Promise<void>) | undefined
runProviderContract('kubernetes', async () => {
  const e = await env()
  e.fake.create('deployments', 'default', workload('Deployment', 'contract', 0))
  contractClose = e.close
  return { group: group('contract', { deployment: 'contract' }), newProvider: () => e.provider({ inPlaceResize: true }), cleanup: () => e.close() }
})
after(async () => {
  await contractClose?.()
})

describe('kubernetes provider', () => {
  let e: Awaited<ReturnType<typeof env>>
  before(async () => {
    e = await env()
  })
  after(async () => {
    await e.close()
  })

  test('terminate marks the named pod with the lowest deletion cost, and exactly that pod goes', async () => {
    e.fake.create('deployments', 'default', workload('Deployment', 'victims', 3))
    const g = group('victims', { deployment: 'victims' })
    const p = e.provider()
    const rs = await listUntil(p, g, '3 running', (l) => l.length === 3 && l.every((r) => r.status === 'running'))
    const victim = rs[1]!.id
    await p.terminate(g, victim)
    assert.equal((e.fake.get('pods', 'default', victim)?.metadata.annotations as Record<string, string> | undefined)?.[POD_DELETION_COST], VICTIM_COST)
    const left = await listUntil(p, g, 'two left', (l) => l.length === 2)
    assert.deepEqual(left.map((r) => r.id).sort(), [rs[0]!.id, rs[2]!.id].sort())
    assert.equal((e.fake.get('deployments', 'default', 'victims')?.spec as { replicas: number }).replicas, 2)
  })

  test('a 409 on the scale write is re-read and retried; six in a row fail with a retryable error', async () => {
    e.fake.create('deployments', 'default', workload('Deployment', 'conflicts', 1))
    const g = group('conflicts', { deployment: 'conflicts' })
    const p = e.provider()
    await listUntil(p, g, 'one', (l) => l.length === 1)
    const isScalePut = (method: string, path: string): boolean => method === 'PUT' && path.endsWith('/deployments/conflicts/scale')
    e.fake.inject({ status: 409, count: 2, match: isScalePut })
    const launched = await p.launch(g, g.size, 1)
    assert.equal(launched.length, 1)
    assert.equal((e.fake.get('deployments', 'default', 'conflicts')?.spec as { replicas: number }).replicas, 2)
    e.fake.inject({ status: 409, count: 6, match: isScalePut })
    await assert.rejects(p.launch(g, g.size, 1), (err: unknown) => {
      assert.ok(isProviderError(err, 'TIDE_ERR_PROVIDER_API'), String(err))
      assert.equal(err.retryable, true)
      assert.match(err.message, /another writer keeps changing deployment default\/conflicts/)
      return true
    })
    assert.equal((e.fake.get('deployments', 'default', 'conflicts')?.spec as { replicas: number }).replicas, 2)
  })

  test('a 429 is a ThrottledError carrying the Retry-After', async () => {
    e.fake.create('deployments', 'default', workload('Deployment', 'throttled', 1))
    const g = group('throttled', { deployment: 'throttled' })
    const p = e.provider()
    await p.list(g)
    e.fake.inject({ status: 429, retryAfterSeconds: 2, match: (_m, path) => path.endsWith('/deployments/throttled/scale') })
    await assert.rejects(p.list(g), (err: unknown) => isThrottledError(err) && retryAfterMsOf(err) === 2000)
    assert.equal((await p.list(g)).length, 1)
  })

  test('a missing workload is a config error naming it, on every list, until it exists', async () => {
    const g = group('missing', { deployment: 'not-there' })
    const p = e.provider()
    for (let i = 0; i < 2; i++) {
      await assert.rejects(p.list(g), (err: unknown) => {
        assert.ok(isProviderError(err, 'TIDE_ERR_PROVIDER_CONFIG'), String(err))
        assert.match(err.message, /deployment default\/not-there not found/)
        return true
      })
    }
    e.fake.create('deployments', 'default', workload('Deployment', 'not-there', 1))
    assert.equal((await listUntil(p, g, 'one', (l) => l.length === 1)).length, 1)
    e.fake.remove('deployments', 'default', 'not-there')
    await assert.rejects(p.list(g), /not found/)
  })

  test('in-place resize goes through the pod resize subresource', async () => {
    e.fake.create('deployments', 'default', workload('Deployment', 'inplace', 1))
    const g = group('inplace', { deployment: 'inplace' })
    const p = e.provider()
    await p.discover()
    assert.equal(p.capabilities.resize, 'in-place')
    const [pod] = await listUntil(p, g, 'one running', (l) => l[0]?.status === 'running')
    const resized = await p.resize(g, pod!.id, { cpu: 2, memoryMiB: 512 })
    assert.deepEqual(resized.size, { cpu: 2, memoryMiB: 512 })
    assert.equal(resized.id, pod!.id)
    assert.ok(e.fake.requests.some((r) => r.method === 'PATCH' && r.path.endsWith(`/pods/${pod!.id}/resize`)))
  })

  test('StatefulSet: terminate lowers the replicas and the highest ordinal goes', async () => {
    e.fake.create('statefulsets', 'default', workload('StatefulSet', 'db', 3))
    const g = group('db', { statefulSet: 'db' })
    const p = e.provider()
    await listUntil(p, g, '3 running', (l) => l.length === 3 && l.every((r) => r.status === 'running'))
    await Promise.all([p.terminate(g, 'db-0'), p.terminate(g, 'db-0')]) // concurrent: once only
    await p.terminate(g, 'db-0') // again: still once
    const left = await listUntil(p, g, 'two left', (l) => l.length === 2)
    assert.deepEqual(left.map((r) => r.id).sort(), ['db-0', 'db-1'])
    assert.equal((e.fake.get('statefulsets', 'default', 'db')?.spec as { replicas: number }).replicas, 2)
  })
})

describe('kubernetes provider without in-place resize, under a pod quota', () => {
  let e: Awaited<ReturnType<typeof env>>
  before(async () => {
    e = await env({ resizeSubresource: false, podQuota: 2 })
  })
  after(async () => {
    await e.close()
  })

  test('discovery finds no resize subresource: resize patches the pod template (a rolling change)', async () => {
    e.fake.create('deployments', 'default', workload('Deployment', 'rolling', 1))
    const g = group('rolling', { deployment: 'rolling' })
    const p = e.provider()
    await p.discover()
    assert.equal(p.capabilities.resize, 'replace')
    const [pod] = await listUntil(p, g, 'one running', (l) => l[0]?.status === 'running')
    await p.resize(g, pod!.id, { cpu: 0.5, memoryMiB: 128 })
    const template = (e.fake.get('deployments', 'default', 'rolling')?.spec as { template: { spec: { containers: { resources: unknown }[] } } }).template
    assert.deepEqual(template.spec.containers[0]?.resources, { requests: { cpu: '500m', memory: '128Mi' }, limits: { memory: '128Mi' } })
    // The rollout replaces the pod with one of the new size.
    const [after1] = await listUntil(p, g, 'the new pod alone', (l) => l.length === 1 && l[0]?.id !== pod!.id && l[0]?.status === 'running')
    assert.deepEqual(after1?.size, { cpu: 0.5, memoryMiB: 128 })
    e.fake.remove('deployments', 'default', 'rolling')
  })

  test('replicas with no pod are listed as starting placeholders, never asked for twice, and can be taken back', async () => {
    e.fake.create('deployments', 'default', workload('Deployment', 'quota', 1))
    const g = group('quota', { deployment: 'quota' })
    const p = e.provider({ launchWaitMs: 300 })
    await listUntil(p, g, 'one', (l) => l.length === 1)
    const launched = await p.launch(g, g.size, 3) // the quota lets one more pod exist
    assert.equal(launched.length, 3)
    assert.equal(launched.filter((r) => r.id.includes('~pending-')).length, 2)
    const rs = await listUntil(p, g, '2 pods + 2 placeholders', (l) => l.length === 4 && l.filter((r) => r.id.includes('~pending-')).length === 2)
    assert.ok(rs.filter((r) => r.id.includes('~pending-')).every((r) => r.status === 'starting'))
    await p.terminate(g, rs.find((r) => r.id.includes('~pending-'))!.id)
    assert.equal((e.fake.get('deployments', 'default', 'quota')?.spec as { replicas: number }).replicas, 3)
    assert.equal((await p.list(g)).length, 3)
  })
})
