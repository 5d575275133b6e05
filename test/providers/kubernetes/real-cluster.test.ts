/**
 * The kubernetes provider against a REAL cluster, when one is given: KUBECONFIG set and
 * TIDE_KUBE_E2E_NAMESPACE naming a namespace the test may use (both, so that a developer's
 * KUBECONFIG alone never lets a test touch a cluster). It creates a Deployment of
 * registry.k8s.io/pause (replicas 0) there, runs the shared provider contract on it, and deletes
 * it. Skipped, saying which variable is missing, everywhere else (the build machine has no cluster;
 * test/providers/kubernetes/kubernetes-provider.test.ts runs the same contract on the fake API server).
 */
import { after } from 'node:test'
import * as k8s from '@kubernetes/client-node'
import { KubeClient, loadKubeConfig, wire } from '../../../src/providers/kubernetes/kube-client.ts'
import { KubernetesProvider } from '../../../src/providers/kubernetes/kubernetes-provider.ts'
import { GroupSchema } from '../../../src/spec/schema.ts'
import { runProviderContract } from '../provider.contract.ts'

const namespace = process.env.TIDE_KUBE_E2E_NAMESPACE
const skip = process.env.KUBECONFIG === undefined ? 'no real cluster: KUBECONFIG is not set' : namespace === undefined ? 'no real cluster: set TIDE_KUBE_E2E_NAMESPACE to a namespace this test may create a Deployment in' : undefined

if (skip !== undefined) {
  const { test } = await import('node:test')
  test('provider contract: kubernetes on a real cluster', { skip }, () => undefined)
} else {
  const name = `tide-e2e-${Date.now().toString(36)}`
  const ns = namespace ?? ''
  const kc = loadKubeConfig()
  const apps = kc.makeApiClient(k8s.AppsV1Api)
  const made: KubernetesProvider[] = []
  after(async () => {
    for (const p of made) await p.stop()
    await apps.deleteNamespacedDeployment({ name, namespace: ns }).catch(() => undefined)
  })
  runProviderContract(
    'kubernetes on a real cluster',
    async () => {
      await apps.createNamespacedDeployment({
        namespace: ns,
        body: wire<k8s.V1Deployment>({
          metadata: { name },
          spec: {
            replicas: 0,
            selector: { matchLabels: { app: name } },
            template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.9', resources: { requests: { cpu: '1', memory: '256Mi' } } }] } },
          },
        }),
      })
      const client = new KubeClient(kc)
      return {
        group: GroupSchema.parse({ group: 'e2e', provider: 'kubernetes', kubernetes: { namespace: ns, deployment: name }, size: { cpu: 1, memoryMiB: 256 } }),
        newProvider: () => {
          const p = new KubernetesProvider({ client, launchWaitMs: 15_000 })
          made.push(p)
          return p
        },
        tick: () => new Promise((resolve) => setTimeout(resolve, 1000)),
        cleanup: () => Promise.resolve(),
      }
    },
    { maxTicks: 180 },
  )
}
