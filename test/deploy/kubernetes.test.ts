/**
 * deploy/kubernetes/: the manifests parse, the config they mount is a valid tide.yaml, the
 * Deployment runs leader-elected on the Lease its Role names, and the Roles allow every call tide
 * makes and nothing it never makes: a provider and an election run against the fake API server,
 * each request it saw is turned into its RBAC attributes (verb, API group, resource, name), and
 * each must be allowed by the manifest's rules, while every rule must be used.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import * as k8s from '@kubernetes/client-node'
import { parseAllDocuments } from 'yaml'
import { systemClock } from '../../src/core/clock.ts'
import { LeaseElector } from '../../src/controller/leader-election.ts'
import { PodMetricsSignals } from '../../src/runtime/pod-metrics.ts'
import { KubeClient } from '../../src/providers/kubernetes/kube-client.ts'
import { KubernetesProvider } from '../../src/providers/kubernetes/kubernetes-provider.ts'
import { kubeLeaseApi } from '../../src/runtime/lease-api.ts'
import { parseConfig } from '../../src/spec/load.ts'
import { GroupSchema } from '../../src/spec/schema.ts'
import { FakeKubeApiServer } from '../support/fake-kube-apiserver.ts'

const DIR = fileURLToPath(new URL('../../deploy/kubernetes/', import.meta.url))
type Obj = { kind: string; metadata: { name: string; namespace?: string }; [k: string]: unknown }
const docs = parseAllDocuments(readFileSync(`${DIR}tide.yaml`, 'utf8')).map((d) => d.toJS() as Obj)
const find = (kind: string, name: string): Obj => {
  const o = docs.find((d) => d.kind === kind && d.metadata.name === name)
  assert.ok(o, `${kind} ${name} in deploy/kubernetes/tide.yaml`)
  return o
}

interface Rule {
  apiGroups: string[]
  resources: string[]
  verbs: string[]
  resourceNames?: string[]
}

test('the manifests: a ServiceAccount the Deployment runs as, bound to both Roles; the mounted config validates; two replicas elect on the Role\'s Lease', () => {
  assert.deepEqual(docs.map((d) => d.kind).sort(), ['ConfigMap', 'Deployment', 'Namespace', 'Role', 'Role', 'RoleBinding', 'RoleBinding', 'Service', 'ServiceAccount'])
  const deployment = find('Deployment', 'tide') as unknown as { spec: { replicas: number; template: { spec: { serviceAccountName: string; containers: { args: string[]; env: { name: string }[] }[] } } } }
  const pod = deployment.spec.template.spec
  assert.equal(pod.serviceAccountName, 'tide')
  assert.equal(deployment.spec.replicas, 2)
  const args = pod.containers[0]?.args ?? []
  const lease = args[args.indexOf('--leader-lease') + 1]
  assert.equal(lease, 'tide-system/tide')
  assert.deepEqual((find('Role', 'tide-leader') as unknown as { rules: Rule[] }).rules[0]?.resourceNames, ['tide'])
  assert.ok(pod.containers[0]?.env.some((e) => e.name === 'POD_NAME'), 'the pod name is the candidate identity')
  for (const b of ['tide-scaler', 'tide-leader']) {
    const binding = find('RoleBinding', b) as unknown as { subjects: { name: string; namespace: string }[]; roleRef: { name: string } }
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'tide', namespace: 'tide-system' }])
    assert.equal(binding.roleRef.name, b)
  }
  const config = parseConfig((find('ConfigMap', 'tide-config') as unknown as { data: Record<string, string> }).data['tide.yaml'] ?? '', 'configmap tide.yaml')
  assert.equal(config.groups[0]?.kubernetes?.deployment, 'web')
  assert.equal(config.global.api.host, '0.0.0.0')
  const containerfile = readFileSync(`${DIR}Containerfile`, 'utf8')
  assert.match(containerfile, /^FROM node:20-slim$/m)
  assert.match(containerfile, /npm ci --omit=dev/)
})

const fake = new FakeKubeApiServer({ startDelayMs: 50, terminationDelayMs: 50 })
before(async () => {
  await fake.start()
})
after(async () => {
  await fake.stop()
})

/** The RBAC attributes of a resource request, as the API server's authorizer sees it; undefined for discovery. */
function attributes(method: string, path: string, query: string): { verb: string; group: string; resource: string; name?: string; namespace?: string } | undefined {
  const m = /^\/(?:api\/v1|apis\/([^/]+)\/[^/]+)\/namespaces\/([^/]+)\/([^/]+)(?:\/([^/]+))?(?:\/([^/]+))?$/.exec(path)
  if (!m) return undefined
  const [, group = '', namespace, resource = '', name, sub] = m
  const verb = method === 'GET' ? (name === undefined ? (query.includes('watch=true') ? 'watch' : 'list') : 'get') : ({ POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' } as Record<string, string>)[method] ?? method
  return { verb, group, resource: sub === undefined ? resource : `${resource}/${sub}`, ...(name === undefined ? {} : { name }), ...(namespace === undefined ? {} : { namespace }) }
}

test('the Roles allow every call tide makes, and each rule is used', async () => {
  fake.create('deployments', 'shop', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'x', resources: { requests: { cpu: '1', memory: '512Mi' } } }] } } },
  })
  const kc = new k8s.KubeConfig()
  kc.loadFromString(fake.kubeconfig())
  const client = new KubeClient(kc)
  const group = GroupSchema.parse({ group: 'web', provider: 'kubernetes', kubernetes: { namespace: 'shop', deployment: 'web' }, size: { cpu: 1, memoryMiB: 512 } })
  const provider = new KubernetesProvider({ client })
  const elector = new LeaseElector({ api: kubeLeaseApi(client, 'tide-system', 'tide'), identity: 'tide-0', clock: systemClock, renewEveryMs: 100 })
  try {
    // Everything tide does: discover, list, launch (and a vertical change of the template), terminate, resize, metrics, election.
    await provider.discover()
    await provider.list(group)
    await provider.launch(group, { cpu: 2, memoryMiB: 1024 }, 1)
    const end = Date.now() + 5000
    let pods = await provider.list(group)
    while (Date.now() < end && !pods.some((r) => r.status === 'running')) {
      await sleep(50)
      pods = await provider.list(group)
    }
    const running = pods.find((r) => r.status === 'running')
    assert.ok(running)
    await provider.resize(group, running.id, { cpu: 1, memoryMiB: 512 })
    await provider.terminate(group, running.id)
    await new PodMetricsSignals({ client, namespace: 'shop' }).refresh()
    await elector.acquire()
    await sleep(300) // a few renewals
    await elector.release()
  } finally {
    elector.stop()
    await provider.stop()
  }
  const roles = docs.filter((d) => d.kind === 'Role').map((r) => ({ namespace: r.metadata.namespace ?? '', rules: (r as unknown as { rules: Rule[] }).rules }))
  const used = new Set<string>()
  const calls = fake.requests.map((r) => attributes(r.method, r.path, r.query)).filter((a) => a !== undefined)
  assert.ok(calls.length > 10)
  for (const c of calls) {
    const ns = c.namespace === 'shop' ? 'shop' : 'tide-system'
    const allowedBy = roles
      .filter((r) => r.namespace === ns)
      .flatMap((r) => r.rules.map((rule, i) => ({ key: `${r.namespace}#${String(i)}`, rule })))
      .find(({ rule }) => rule.apiGroups.includes(c.group) && rule.resources.includes(c.resource) && rule.verbs.includes(c.verb) && (rule.resourceNames === undefined || (c.name !== undefined && rule.resourceNames.includes(c.name))))
    assert.ok(allowedBy, `tide made ${c.verb} ${c.group}/${c.resource} ${c.name ?? ''} in ${c.namespace ?? ''}, which the Roles do not allow`)
    used.add(allowedBy.key)
  }
  for (const r of roles) r.rules.forEach((rule, i) => {
    assert.ok(used.has(`${r.namespace}#${String(i)}`), `rule ${JSON.stringify(rule)} in ${r.namespace} is never used: drop it (least privilege)`)
  })
})
