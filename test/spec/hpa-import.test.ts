import { test } from 'node:test'
import assert from 'node:assert/strict'
import { convertHpa, HpaImportError, quantity } from '../../src/spec/hpa-import.ts'
import { parseConfig } from '../../src/spec/load.ts'
import { isTideError } from '../../src/errors.ts'

// From the Kubernetes documentation, "HorizontalPodAutoscaler Walkthrough"
// (kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale-walkthrough/):
// the php-apache HPA, and the same HPA with multiple and custom metrics.
const walkthrough = `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: php-apache
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: php-apache
  minReplicas: 1
  maxReplicas: 10
  metrics:
  - type: Resource
    resource:
      name: cpu
      target:
        type: Utilization
        averageUtilization: 50
`

const multipleMetrics = `${walkthrough}  - type: Pods
    pods:
      metric:
        name: packets-per-second
      target:
        type: AverageValue
        averageValue: 1k
  - type: Object
    object:
      metric:
        name: requests-per-second
      describedObject:
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        name: main-route
      target:
        type: Value
        value: 10k
`

// Same page, "Autoscaling on metrics not related to Kubernetes objects".
const external = `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: worker
spec:
  scaleTargetRef: { apiVersion: apps/v1, kind: Deployment, name: worker }
  maxReplicas: 20
  metrics:
  - type: External
    external:
      metric:
        name: queue_messages_ready
        selector:
          matchLabels:
            queue: "worker_tasks"
      target:
        type: AverageValue
        averageValue: 30
`

// From "Horizontal Pod Autoscaling" (kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/),
// "Configurable scaling behavior": the scale-down policies example and a disabled scale-down.
const behavior = `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: { name: web }
spec:
  scaleTargetRef: { apiVersion: apps/v1, kind: Deployment, name: web }
  minReplicas: 2
  maxReplicas: 30
  metrics:
  - type: Resource
    resource: { name: memory, target: { type: AverageValue, averageValue: 500Mi } }
  behavior:
    scaleDown:
      stabilizationWindowSeconds: 600
      policies:
      - type: Pods
        value: 4
        periodSeconds: 60
      - type: Percent
        value: 10
        periodSeconds: 60
      selectPolicy: Min
    scaleUp:
      selectPolicy: Disabled
`

/** The import reads HPA external metrics from a Prometheus server it cannot know, named in a note. */
const PROM = { type: 'prometheus', url: 'http://127.0.0.1:9090' }

test('the walkthrough HPA converts one to one and is a valid tide.yaml', () => {
  const r = convertHpa(walkthrough, 'hpa.yaml')
  assert.deepEqual(r.groups, [
    { group: 'php-apache', provider: 'kubernetes', kubernetes: { namespace: 'default', deployment: 'php-apache' }, replicas: { min: 1, max: 10 }, metrics: [{ type: 'cpu', target: { averageUtilization: 50 } }] },
  ])
  assert.deepEqual(r.notes, [])
  const config = parseConfig(r.yaml, 'out.yaml')
  assert.equal(config.groups[0]!.replicas.max, 10)
  // HPA defaults carry over through tide's own defaults
  assert.equal(config.groups[0]!.behavior.scaleDown.stabilizationWindowSeconds, 300)
})

test('Pods and Object metrics become external queries, each with a note', () => {
  const r = convertHpa(multipleMetrics, 'hpa.yaml')
  assert.deepEqual(r.groups[0]!.metrics, [
    { type: 'cpu', target: { averageUtilization: 50 } },
    { type: 'external', query: 'sum(packets_per_second)', source: PROM, target: { averageValue: 1000 } }, // 1k
    { type: 'external', query: 'sum(requests_per_second)', source: PROM, target: { value: 10000 } }, // 10k
  ])
  assert.deepEqual(r.notes.map((n) => n.field), ['spec.metrics[1]', 'spec.metrics[2]'])
  assert.match(r.yaml, /# {3}spec\.metrics\[2\]: Object metric "requests-per-second" of Ingress\/main-route/)
  parseConfig(r.yaml, 'out.yaml')
})

test('an External metric keeps its selector labels in the query; minReplicas defaults to 1', () => {
  const r = convertHpa(external, 'hpa.yaml')
  assert.deepEqual(r.groups[0]!.replicas, { min: 1, max: 20 })
  assert.deepEqual(r.groups[0]!.metrics, [{ type: 'external', query: 'sum(queue_messages_ready{queue="worker_tasks"})', source: PROM, target: { averageValue: 30 } }])
  parseConfig(r.yaml, 'out.yaml')
})

test('behavior and memory AverageValue carry over', () => {
  const r = convertHpa(behavior, 'hpa.yaml')
  const g = r.groups[0]!
  assert.deepEqual(g.metrics, [{ type: 'memory', target: { averageValueMiB: 500 } }])
  assert.deepEqual(g.behavior, {
    scaleDown: {
      stabilizationWindowSeconds: 600,
      selectPolicy: 'Min',
      policies: [
        { type: 'Pods', value: 4, periodSeconds: 60 },
        { type: 'Percent', value: 10, periodSeconds: 60 },
      ],
    },
    scaleUp: { selectPolicy: 'Disabled' },
  })
  const config = parseConfig(r.yaml, 'out.yaml')
  // scaleUp keeps the HPA default policies when only selectPolicy is given
  assert.equal(config.groups[0]!.behavior.scaleUp.policies.length, 2)
})

test('cpu AverageValue cannot be converted and says why', () => {
  const text = walkthrough.replace('type: Utilization\n        averageUtilization: 50', 'type: AverageValue\n        averageValue: 500m')
  const r = convertHpa(text, 'hpa.yaml')
  assert.equal(r.groups[0]!.metrics, undefined)
  assert.deepEqual(r.notes.map((n) => n.field), ['spec.metrics[0]', 'spec.metrics'])
  assert.match(r.notes[0]!.message, /not converted: cpu averageValue 500m is absolute.*averageUtilization 50\/C/)
  parseConfig(r.yaml, 'out.yaml')
})

test('an HPA without metrics gets the HPA default of cpu 80 %', () => {
  const r = convertHpa('apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: { name: a }\nspec: { maxReplicas: 3 }\n', 'h.yaml')
  assert.deepEqual(r.groups[0]!.metrics, [{ type: 'cpu', target: { averageUtilization: 80 } }])
})

test('autoscaling/v1 targetCPUUtilizationPercentage', () => {
  const r = convertHpa('apiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nmetadata: { name: a }\nspec: { maxReplicas: 3, targetCPUUtilizationPercentage: 70 }\n', 'h.yaml')
  assert.deepEqual(r.groups[0]!.metrics, [{ type: 'cpu', target: { averageUtilization: 70 } }])
})

test('a List and several documents: HPAs converted, other kinds skipped with a note', () => {
  const text = `apiVersion: v1\nkind: List\nitems:\n- ${walkthrough.trimEnd().replace(/\n/g, '\n  ')}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: { name: web }\n---\n${external}`
  const r = convertHpa(text, 'all.yaml')
  assert.deepEqual(r.groups.map((g) => g.group), ['php-apache', 'worker'])
  assert.deepEqual(r.notes.filter((n) => n.field === 'kind').map((n) => n.message), ['skipped a Deployment: not a HorizontalPodAutoscaler'])
  assert.equal(parseConfig(r.yaml, 'out.yaml').groups.length, 2)
})

test('a name that is not a group name is renamed, with a note', () => {
  const r = convertHpa('apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: { name: Shop_Web }\nspec: { maxReplicas: 3 }\n', 'h.yaml')
  assert.equal(r.groups[0]!.group, 'shop-web')
  assert.ok(r.notes.some((n) => n.field === 'metadata.name'))
})

test('the group targets the scaleTargetRef: a StatefulSet in the HPA\'s namespace; other kinds are refused', () => {
  const sts = convertHpa('apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: { name: db, namespace: shop }\nspec:\n  scaleTargetRef: { apiVersion: apps/v1, kind: StatefulSet, name: postgres }\n  maxReplicas: 3\n', 'h.yaml')
  assert.deepEqual(sts.groups[0]!.kubernetes, { namespace: 'shop', statefulSet: 'postgres' })
  assert.equal(parseConfig(sts.yaml, 'out.yaml').groups[0]!.kubernetes?.statefulSet, 'postgres')
  assert.throws(() => convertHpa('apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: { name: r }\nspec:\n  scaleTargetRef: { apiVersion: apps/v1, kind: ReplicaSet, name: r }\n  maxReplicas: 3\n', 'h.yaml'), /h\.yaml:1: HorizontalPodAutoscaler r: spec\.scaleTargetRef\.kind ReplicaSet: tide's kubernetes provider scales Deployments and StatefulSets/)
  const none = convertHpa('apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: { name: a }\nspec: { maxReplicas: 3 }\n', 'h.yaml')
  assert.deepEqual(none.groups[0]!.kubernetes, { namespace: 'default', deployment: 'a' })
  assert.ok(none.notes.some((n) => n.field === 'spec.scaleTargetRef'))
})

const failures = [
  { name: 'no HPA in the file', text: 'apiVersion: v1\nkind: Service\nmetadata: { name: s }\n', match: /h\.yaml: no HorizontalPodAutoscaler found/ },
  { name: 'missing maxReplicas', text: 'kind: HorizontalPodAutoscaler\nmetadata: { name: a }\nspec: { minReplicas: 1 }\n', match: /h\.yaml:1: HorizontalPodAutoscaler a: spec\.maxReplicas is required/ },
  {
    name: 'values Kubernetes would refuse too',
    text: 'kind: HorizontalPodAutoscaler\nmetadata: { name: a }\nspec:\n  minReplicas: 5\n  maxReplicas: 3\n  behavior: { scaleDown: { policies: [{ type: Pods, value: 1, periodSeconds: 0 }] } }\n',
    match: /^h\.yaml: the HorizontalPodAutoscaler holds values tide cannot accept \(would Kubernetes\?\):\n {2}replicas\.min: must not exceed replicas\.max\n {2}behavior\.scaleDown\.policies\[0\]\.periodSeconds: must be > 0, got 0$/,
  },
  { name: 'YAML syntax error', text: 'kind: [HorizontalPodAutoscaler\n', match: /^h\.yaml:2:1: YAML: / },
] as const
for (const c of failures) {
  test(`fails clearly: ${c.name}`, () => {
    assert.throws(
      () => convertHpa(c.text, 'h.yaml'),
      (err: unknown) => err instanceof HpaImportError && isTideError(err, 'TIDE_ERR_HPA_IMPORT') && c.match.test(err.message),
    )
  })
}

const quantities = [
  { name: 'milli', q: '500m', want: 0.5 },
  { name: 'kilo', q: '1k', want: 1000 },
  { name: 'mebi', q: '10Mi', want: 10 * 2 ** 20 },
  { name: 'giga', q: '2G', want: 2e9 },
  { name: 'exponent', q: '1e3', want: 1000 },
  { name: 'plain number', q: 30, want: 30 },
  { name: 'decimal string', q: '0.05', want: 0.05 },
  { name: 'garbage', q: '10 apples', want: undefined },
] as const
for (const c of quantities) {
  test(`quantity: ${c.name}`, () => {
    assert.equal(quantity(c.q), c.want)
  })
}
