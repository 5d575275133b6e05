/** The `kubernetes:` section of a group: required with provider kubernetes, refused otherwise, strict. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { GroupSchema } from '../../src/spec/schema.ts'
import { kubernetesTarget } from '../../src/spec/kubernetes.ts'

const cases = [
  { name: 'a deployment', group: { provider: 'kubernetes', kubernetes: { namespace: 'shop', deployment: 'web' } }, error: undefined },
  { name: 'a statefulSet with a container', group: { provider: 'kubernetes', kubernetes: { namespace: 'shop', statefulSet: 'db', container: 'postgres' } }, error: undefined },
  { name: 'provider kubernetes without the section', group: { provider: 'kubernetes' }, error: /kubernetes: a group with provider kubernetes needs kubernetes/ },
  { name: 'both workload kinds', group: { provider: 'kubernetes', kubernetes: { namespace: 'shop', deployment: 'web', statefulSet: 'db' } }, error: /exactly one of deployment or statefulSet/ },
  { name: 'neither workload kind', group: { provider: 'kubernetes', kubernetes: { namespace: 'shop' } }, error: /exactly one of deployment or statefulSet/ },
  { name: 'an unknown field', group: { provider: 'kubernetes', kubernetes: { namespace: 'shop', deployment: 'web', replicas: 3 } }, error: /replicas/ },
  { name: 'an upper-case namespace', group: { provider: 'kubernetes', kubernetes: { namespace: 'Shop', deployment: 'web' } }, error: /namespace.*DNS-1123/ },
  { name: 'the section on a local group', group: { provider: 'local', launch: { command: ['node', 'x.js'] }, kubernetes: { namespace: 'shop', deployment: 'web' } }, error: /only for provider kubernetes \(this group's provider is local\)/ },
  { name: 'launch on a kubernetes group', group: { provider: 'kubernetes', launch: { command: ['node', 'x.js'] }, kubernetes: { namespace: 'shop', deployment: 'web' } }, error: /launch: not used with provider kubernetes/ },
] as const

for (const c of cases) {
  test(c.name, () => {
    const r = GroupSchema.safeParse({ group: 'g', ...c.group })
    if (c.error === undefined) {
      assert.ok(r.success, r.success ? '' : JSON.stringify(r.error.issues))
      return
    }
    assert.ok(!r.success)
    const text = r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n')
    assert.match(text, c.error)
  })
}

test('the target names the kind and API resource', () => {
  assert.deepEqual(kubernetesTarget({ namespace: 'a', deployment: 'web' }), { kind: 'Deployment', resource: 'deployments', name: 'web' })
  assert.deepEqual(kubernetesTarget({ namespace: 'a', statefulSet: 'db' }), { kind: 'StatefulSet', resource: 'statefulsets', name: 'db' })
})
