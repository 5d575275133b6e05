/**
 * Keeps the fake API server honest: the real `kubectl` (create, scale, get, rollout status) and the
 * real `@kubernetes/client-node` (scale patch, read, informer, pod list, leases) drive it through
 * a kubeconfig that points at it, and its error replies are the real server's `kind: Status`
 * objects. The kubectl cases skip, saying so, where kubectl is not installed.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import * as k8s from '@kubernetes/client-node'
import { FakeKubeApiServer, parseSelector, type KubeObject } from './fake-kube-apiserver.ts'
import { binaryPath, missingBinary } from './system-binaries.ts'

const DEPLOYMENT = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'default' },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'shop:1', resources: { requests: { cpu: '500m', memory: '256Mi' } } }] } },
  },
}

/** A plain JSON body typed as the client's model class (the client serialises it by its fields). */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the point is the cast
function wire<T>(o: unknown): T {
  return o as T
}

/** Polls `check` every 50 ms until it returns true; fails after `ms`. */
async function until(what: string, check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (await check()) return
    await sleep(50)
  }
  assert.fail(`${what}: not reached in ${ms} ms`)
}

function livePods(fake: FakeKubeApiServer, owner: string): KubeObject[] {
  return fake.pods('default').filter((p) => p.metadata.deletionTimestamp === undefined && p.metadata.name.startsWith(`${owner}-`))
}

function ready(p: KubeObject): boolean {
  return ((p.status as { conditions?: { type: string; status: string }[] }).conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')
}

describe('label selectors', () => {
  const cases = [
    { name: 'equality', sel: 'app=web', labels: { app: 'web' }, want: true },
    { name: 'double equals and a second term', sel: 'app==web,tier=front', labels: { app: 'web' }, want: false },
    { name: 'inequality', sel: 'app!=web', labels: { app: 'api' }, want: true },
    { name: 'set in', sel: 'app in (web,api)', labels: { app: 'api' }, want: true },
    { name: 'set notin', sel: 'app notin (web)', labels: { app: 'web' }, want: false },
    { name: 'exists and not exists', sel: 'app,!canary', labels: { app: 'x' }, want: true },
    { name: 'empty selects all', sel: '', labels: {}, want: true },
  ] as const
  for (const c of cases) {
    test(c.name, () => {
      assert.equal(parseSelector(c.sel)(c.labels), c.want)
    })
  }
})

describe('fake kube-apiserver driven by kubectl', { skip: missingBinary('kubectl') }, () => {
  const fake = new FakeKubeApiServer({ startDelayMs: 200, terminationDelayMs: 100 })
  let dir = ''
  const kubectl = (...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> =>
    new Promise((resolve) => {
      execFile(binaryPath('kubectl') ?? 'kubectl', args, { env: { ...process.env, KUBECONFIG: join(dir, 'kubeconfig'), HOME: dir }, timeout: 20_000 }, (err, stdout, stderr) => {
        resolve({ stdout, stderr, code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1 })
      })
    })

  before(async () => {
    await fake.start()
    dir = mkdtempSync(join(tmpdir(), 'tide-fake-kube-'))
    writeFileSync(join(dir, 'kubeconfig'), fake.kubeconfig())
    writeFileSync(join(dir, 'deploy.json'), JSON.stringify(DEPLOYMENT))
  })
  after(async () => {
    await fake.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  test('create -f makes the Deployment and its pods become ready', async () => {
    const r = await kubectl('create', '-f', join(dir, 'deploy.json'))
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /deployment.apps\/web created/)
    await until('2 ready pods', () => livePods(fake, 'web').filter(ready).length === 2)
  })

  test('a second create is refused with AlreadyExists', async () => {
    const r = await kubectl('create', '-f', join(dir, 'deploy.json'))
    assert.notEqual(r.code, 0)
    assert.match(r.stderr, /AlreadyExists|already exists/)
  })

  test('scale then rollout status waits until the new pods are ready', async () => {
    const s = await kubectl('scale', 'deployment/web', '--replicas=4')
    assert.equal(s.code, 0, s.stderr)
    const r = await kubectl('rollout', 'status', 'deployment/web', '--timeout=15s')
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /successfully rolled out/)
    // rollout status lists, then watches from that list's resourceVersion with bookmarks.
    const watch = fake.requests.find((q) => q.path.endsWith('/deployments') && q.query.includes('watch=true'))
    assert.match(watch?.query ?? '', /resourceVersion=\d+/)
    assert.match(watch?.query ?? '', /allowWatchBookmarks=true/)
    assert.equal(livePods(fake, 'web').filter(ready).length, 4)
  })

  test('get -o json shows the replicas; get prints the server-side table', async () => {
    const j = await kubectl('get', 'deployment', 'web', '-o', 'json')
    assert.equal(j.code, 0, j.stderr)
    const d = JSON.parse(j.stdout) as { spec: { replicas: number }; status: { readyReplicas: number } }
    assert.equal(d.spec.replicas, 4)
    assert.equal(d.status.readyReplicas, 4)
    const t = await kubectl('get', 'pods')
    assert.equal(t.code, 0, t.stderr)
    assert.match(t.stdout, /NAME\s+READY\s+STATUS/)
    assert.equal(t.stdout.match(/1\/1\s+Running/g)?.length, 4)
  })

  test('a missing deployment is NotFound', async () => {
    const r = await kubectl('get', 'deployment', 'nope')
    assert.notEqual(r.code, 0)
    assert.match(r.stderr, /NotFound.*"nope" not found/)
  })

  test('delete pod: it terminates, then goes, and the Deployment replaces it', async () => {
    const victim = livePods(fake, 'web')[0]!.metadata.name
    const r = await kubectl('delete', 'pod', victim, '--wait=false')
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, new RegExp(`pod "${victim}" deleted`))
    await until('victim gone', () => fake.get('pods', 'default', victim) === undefined)
    await until('4 ready again', () => livePods(fake, 'web').filter(ready).length === 4)
  })

  test('scale down removes the pod with the lowest deletion cost', async () => {
    const pods = livePods(fake, 'web')
    const victim = pods[2]!.metadata.name
    const a = await kubectl('annotate', 'pod', victim, 'controller.kubernetes.io/pod-deletion-cost=-100')
    assert.equal(a.code, 0, a.stderr)
    const s = await kubectl('scale', 'deployment/web', '--replicas=3')
    assert.equal(s.code, 0, s.stderr)
    await until('victim gone', () => fake.get('pods', 'default', victim) === undefined)
    assert.equal(livePods(fake, 'web').length, 3)
  })
})

describe('fake kube-apiserver driven by @kubernetes/client-node', () => {
  const fake = new FakeKubeApiServer({ startDelayMs: 150, terminationDelayMs: 100, bookmarkEveryMs: 200 })
  let kc: k8s.KubeConfig
  let apps: k8s.AppsV1Api
  let core: k8s.CoreV1Api

  before(async () => {
    await fake.start()
    kc = new k8s.KubeConfig()
    kc.loadFromString(fake.kubeconfig())
    apps = kc.makeApiClient(k8s.AppsV1Api)
    core = kc.makeApiClient(k8s.CoreV1Api)
    fake.create('deployments', 'default', DEPLOYMENT)
  })
  after(async () => {
    await fake.stop()
  })

  test('the scale subresource: merge patch, then read', async () => {
    const patched = await apps.patchNamespacedDeploymentScale({ name: 'web', namespace: 'default', body: { spec: { replicas: 3 } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch))
    assert.equal(patched.spec?.replicas, 3)
    assert.equal(patched.status?.selector, 'app=web')
    const seen = fake.requests.findLast((r) => r.method === 'PATCH')
    assert.equal(seen?.contentType, 'application/merge-patch+json')
    const scale = await apps.readNamespacedDeploymentScale({ name: 'web', namespace: 'default' })
    assert.equal(scale.spec?.replicas, 3)
    await until('3 ready', async () => ((await apps.readNamespacedDeployment({ name: 'web', namespace: 'default' })).status?.readyReplicas ?? 0) === 3)
  })

  test('a PUT of the scale with a stale resourceVersion is a 409 Conflict Status', async () => {
    const scale = await apps.readNamespacedDeploymentScale({ name: 'web', namespace: 'default' })
    await apps.replaceNamespacedDeploymentScale({ name: 'web', namespace: 'default', body: wire<k8s.V1Scale>({ metadata: scale.metadata, spec: { replicas: 3 } }) })
    await assert.rejects(apps.replaceNamespacedDeploymentScale({ name: 'web', namespace: 'default', body: wire<k8s.V1Scale>({ metadata: scale.metadata, spec: { replicas: 2 } }) }), (err: unknown) => {
      assert.ok(err instanceof k8s.ApiException)
      assert.equal(err.code, 409)
      assert.match(String(err.body), /"kind":"Status".*"reason":"Conflict"/)
      return true
    })
  })

  test('negative replicas are a 422 Invalid; a missing deployment a 404', async () => {
    await assert.rejects(apps.patchNamespacedDeploymentScale({ name: 'web', namespace: 'default', body: { spec: { replicas: -1 } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch)), (err: unknown) => err instanceof k8s.ApiException && err.code === 422)
    await assert.rejects(apps.readNamespacedDeploymentScale({ name: 'gone', namespace: 'default' }), (err: unknown) => err instanceof k8s.ApiException && err.code === 404)
  })

  test('an injected 429 carries Retry-After; the next request passes', async () => {
    fake.inject({ status: 429, retryAfterSeconds: 3 })
    await assert.rejects(core.listNamespacedPod({ namespace: 'default' }), (err: unknown) => {
      assert.ok(err instanceof k8s.ApiException)
      assert.equal(err.code, 429)
      assert.equal(err.headers['retry-after'], '3')
      return true
    })
    const pods = await core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=web' })
    assert.equal(pods.items.length, 3)
  })

  test('an informer lists then watches: it sees a scale-out and a scale-in', async () => {
    const informer = k8s.makeInformer(kc, '/api/v1/namespaces/default/pods', () => core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=web' }), 'app=web')
    const deleted: string[] = []
    informer.on('delete', (p) => deleted.push(p.metadata?.name ?? ''))
    await informer.start()
    try {
      assert.equal(informer.list().length, 3)
      await apps.patchNamespacedDeploymentScale({ name: 'web', namespace: 'default', body: { spec: { replicas: 5 } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch))
      await until('5 ready in the informer', () => informer.list().filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true).length === 5)
      await apps.patchNamespacedDeploymentScale({ name: 'web', namespace: 'default', body: { spec: { replicas: 4 } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch))
      await until('one deleted', () => deleted.length === 1)
      assert.equal(informer.list().length, 4)
      const watch = fake.requests.find((r) => r.query.includes('watch=true'))
      assert.match(watch?.query ?? '', /resourceVersion=\d+/)
    } finally {
      await informer.stop()
    }
  })

  test('the pod resize subresource changes a container in place', async () => {
    const pod = livePods(fake, 'web')[0]!
    await core.patchNamespacedPodResize({ name: pod.metadata.name, namespace: 'default', body: { spec: { containers: [{ name: 'web', resources: { requests: { cpu: '1', memory: '512Mi' } } }] } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch))
    const after = fake.get('pods', 'default', pod.metadata.name)
    assert.deepEqual((after?.spec as { containers: { resources: unknown }[] }).containers[0]?.resources, { requests: { cpu: '1', memory: '512Mi' } })
  })

  test('PodMetrics report what the test set', async () => {
    const pod = livePods(fake, 'web')[0]!
    fake.setUsage(pod.metadata.name, { cpuMilli: 250, memoryMiB: 100 })
    const metrics = new k8s.Metrics(kc)
    const list = await metrics.getPodMetrics('default')
    const m = list.items.find((i) => i.metadata.name === pod.metadata.name)
    assert.deepEqual(m?.containers[0]?.usage, { cpu: '250000000n', memory: '102400Ki' })
  })

  test('leases: create, update with the current resourceVersion, 409 with a stale one', async () => {
    const coord = kc.makeApiClient(k8s.CoordinationV1Api)
    const created = await coord.createNamespacedLease({ namespace: 'default', body: wire<k8s.V1Lease>({ metadata: { name: 'tide' }, spec: { holderIdentity: 'a', leaseDurationSeconds: 15 } }) })
    const updated = await coord.replaceNamespacedLease({ name: 'tide', namespace: 'default', body: wire<k8s.V1Lease>({ metadata: created.metadata, spec: { holderIdentity: 'b', leaseDurationSeconds: 15 } }) })
    assert.equal(updated.spec?.holderIdentity, 'b')
    const stale = wire<k8s.V1Lease>({ metadata: created.metadata, spec: { holderIdentity: 'c' } })
    await assert.rejects(coord.replaceNamespacedLease({ name: 'tide', namespace: 'default', body: stale }), (err: unknown) => err instanceof k8s.ApiException && err.code === 409)
  })
})
