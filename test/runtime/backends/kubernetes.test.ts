/**
 * The kubernetes backend: its parts (cluster traffic, pods kept when tide stops, which changes
 * take a restart), then the real `tide up`, spawned as a child process with KUBECONFIG pointing
 * at the fake API server (test/support/fake-kube-apiserver.ts): an external signal that asks for
 * 3 pods sets the Deployment's replicas to 3 through the scale subresource, `GET /groups` shows
 * the pods, a lower signal scales in by pod-deletion-cost, and stopping tide leaves the pods
 * running. kubectl checks the result where it is installed.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import * as k8s from '@kubernetes/client-node'
import { systemClock } from '../../../src/core/clock.ts'
import { MemoryInstanceRegistry } from '../../../src/providers/local/instance-registry.ts'
import { KubeClient } from '../../../src/providers/kubernetes/kube-client.ts'
import { kubernetesBackends } from '../../../src/runtime/backends/kubernetes.ts'
import { GroupSchema } from '../../../src/spec/schema.ts'
import { MemoryEventLog } from '../../../src/store/events.ts'
import { FakeKubeApiServer } from '../../support/fake-kube-apiserver.ts'
import { KubeQueueFixture, WEB_DEPLOYMENT } from '../../support/kube-queue-fixture.ts'
import { binaryPath, missingBinary } from '../../support/system-binaries.ts'
import { tideUp } from '../../support/tide-up.ts'

const spec = (kubernetes: Record<string, string> = { namespace: 'default', deployment: 'web' }) => GroupSchema.parse({ group: 'web', provider: 'kubernetes', kubernetes })

describe('kubernetes backend parts', () => {
  const fake = new FakeKubeApiServer({ startDelayMs: 50 })
  let client: KubeClient
  before(async () => {
    await fake.start()
    const kc = new k8s.KubeConfig()
    kc.loadFromString(fake.kubeconfig())
    client = new KubeClient(kc)
    fake.create('deployments', 'default', WEB_DEPLOYMENT)
  })
  after(async () => {
    await fake.stop()
  })

  test('the cluster routes: setTargets does nothing, a drain resolves at once, pods stay when tide stops; another workload takes a restart', async () => {
    const kind = kubernetesBackends({ stateDir: tmpdir(), registry: new MemoryInstanceRegistry(), events: new MemoryEventLog(), clock: systemClock }, client)
    const b = await kind.start(spec())
    try {
      assert.equal(b.keepsInstancesOnStop, true)
      assert.equal(b.provider.name, 'kubernetes')
      assert.equal(b.provider.capabilities.resize, 'in-place') // the fake lists pods/resize
      const [pod] = await b.provider.list(spec())
      assert.ok(pod)
      b.traffic?.setTargets(spec(), [])
      await b.traffic?.drain(spec(), pod)
      assert.equal(b.refuses(spec()), undefined)
      assert.match(b.refuses(spec({ namespace: 'default', deployment: 'api' })) ?? '', /kubernetes changed; .* takes a restart of tide up/)
    } finally {
      await b.stop()
    }
  })
})

describe('tide up with a kubernetes group against the fake API server', () => {
  const fixture = new KubeQueueFixture({ fake: { startDelayMs: 200, terminationDelayMs: 100 }, depth: 30, dirPrefix: 'tide-up-kube-' })
  const fake = fixture.fake
  before(() => fixture.start())
  after(() => fixture.stop())

  test('an external signal scales the Deployment out to 3 and back to 1; GET /groups shows the pods; stopping tide leaves them', { timeout: 120_000 }, async () => {
    const dir = fixture.dir
    const config = fixture.writeConfig('tide', ['behavior: { scaleDown: { stabilizationWindowSeconds: 0 } }'])
    const up = tideUp(['-c', config, '--state-dir', join(dir, 'state'), '--heartbeat', '0', '--api-listen', '0'], dir, { KUBECONFIG: fixture.kubeconfigPath, TIDE_API_TOKEN: '' })
    try {
      const url = (await up.waitForLine(/^API: /)).split(' ')[1] ?? ''
      // 30 queued ÷ 10 per pod = 3 pods.
      const replicas = (): number => fixture.replicas()
      const groups = async (): Promise<{ id: string; phase: string }[]> => {
        const body = (await (await fetch(`${url}/groups`, { signal: AbortSignal.timeout(10_000) })).json()) as { groups: { group: string; status: { instances: { id: string; phase: string }[] } | null }[] }
        return body.groups.find((g) => g.group === 'web')?.status?.instances ?? []
      }
      let seen: { id: string; phase: string }[] = []
      const end = Date.now() + 60_000
      while (Date.now() < end) {
        seen = await groups()
        if (replicas() === 3 && seen.length === 3 && seen.every((i) => i.phase === 'in-service')) break
        await sleep(200)
      }
      assert.equal(replicas(), 3, `stdout:\n${up.lines.join('\n')}\nstderr:\n${up.stderr()}`)
      const pods = fake.pods('default').filter((p) => p.metadata.deletionTimestamp === undefined).map((p) => p.metadata.name).sort()
      assert.deepEqual(seen.map((i) => i.id).sort(), pods)
      assert.ok(seen.every((i) => i.phase === 'in-service'), JSON.stringify(seen))
      if (missingBinary('kubectl') === false) {
        const out = await new Promise<string>((resolve, reject) => {
          execFile(binaryPath('kubectl') ?? 'kubectl', ['get', 'deployment', 'web', '-o', 'jsonpath={.spec.replicas} {.status.readyReplicas}'], { env: { ...process.env, KUBECONFIG: join(dir, 'kubeconfig'), HOME: dir }, timeout: 20_000 }, (err, stdout, stderr) => {
            if (err) reject(new Error(stderr))
            else resolve(stdout)
          })
        })
        assert.equal(out, '3 3')
      }

      fixture.depth = 10 // one pod's worth: scale in to 1
      const inEnd = Date.now() + 60_000
      while (Date.now() < inEnd && !(replicas() === 1 && (await groups()).length === 1)) await sleep(200)
      assert.equal(replicas(), 1)
      const survivor = await groups()
      assert.equal(survivor.length, 1)
      assert.ok(pods.includes(survivor[0]?.id ?? ''), 'the survivor is one of the pods tide scaled out to')

      assert.equal(await up.stop(), 0, up.stderr())
      // The pods are the cluster's: tide stopping leaves the Deployment as it was.
      assert.equal(replicas(), 1)
      assert.equal(fake.pods('default').filter((p) => p.metadata.deletionTimestamp === undefined).length, 1)
    } finally {
      await up.stop()
    }
  })
})
