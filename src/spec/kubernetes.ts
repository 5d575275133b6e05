/**
 * The `kubernetes:` section of a group whose provider is `kubernetes` (a Deployment or a
 * StatefulSet that tide scales), and the cross-field rules that tie it to the rest of the
 * group. Pure: schema.ts adds the section to GroupSchema and calls kubernetesGroupIssues() from
 * its refinement. The cluster and credentials come from the usual kubeconfig resolution
 * (KUBECONFIG, ~/.kube/config, the in-cluster service account), so there is no knob for them here.
 */
import { z } from 'zod'

/** A DNS-1123 label: a namespace or container name (lower case, digits, dashes; at most 63). */
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
/** A DNS-1123 subdomain: a Deployment or StatefulSet name (labels joined by dots; at most 253). */
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/

const label = z.string().max(63).regex(DNS1123_LABEL, 'must be a DNS-1123 label (lower-case letters, digits and dashes)')
const subdomain = z.string().max(253).regex(DNS1123_SUBDOMAIN, 'must be a DNS-1123 name (lower-case letters, digits, dashes and dots)')

/**
 * Which workload a group scales: exactly one of `deployment` or `statefulSet`, in `namespace`.
 * `container` names the container whose resources are the instance's size (and what a vertical
 * change sets); the pod's first container when absent.
 */
export const KubernetesSchema = z
  .strictObject({
    namespace: label,
    deployment: subdomain.optional(),
    statefulSet: subdomain.optional(),
    container: label.optional(),
  })
  .refine((k) => (k.deployment === undefined) !== (k.statefulSet === undefined), {
    message: 'name exactly one of deployment or statefulSet',
  })

export type KubernetesSpec = z.infer<typeof KubernetesSchema>

/** The parts of a group the kubernetes rules read (a structural subset of GroupSpec). */
export interface KubernetesGroupFields {
  readonly provider: string
  readonly kubernetes?: KubernetesSpec | undefined
  readonly launch?: unknown
}

/** One problem of a group's kubernetes settings: the path of the field and what is wrong. */
export interface KubernetesIssue {
  readonly path: (string | number)[]
  readonly message: string
}

/**
 * What is wrong with a group's kubernetes settings, empty when nothing is: provider kubernetes
 * needs the section (and takes no `launch`: the pod template says what runs), another provider
 * must not have one.
 */
export function kubernetesGroupIssues(g: KubernetesGroupFields): KubernetesIssue[] {
  if (g.provider !== 'kubernetes') {
    return g.kubernetes === undefined ? [] : [{ path: ['kubernetes'], message: `only for provider kubernetes (this group's provider is ${g.provider})` }]
  }
  const issues: KubernetesIssue[] = []
  if (g.kubernetes === undefined) issues.push({ path: ['kubernetes'], message: 'a group with provider kubernetes needs kubernetes: { namespace, deployment } (or statefulSet)' })
  if (g.launch !== undefined) issues.push({ path: ['launch'], message: "not used with provider kubernetes: the workload's pod template says what runs" })
  return issues
}

/** The workload a kubernetes section names: its kind, API resource and name. */
export function kubernetesTarget(k: KubernetesSpec): { readonly kind: 'Deployment' | 'StatefulSet'; readonly resource: 'deployments' | 'statefulsets'; readonly name: string } {
  return k.deployment !== undefined ? { kind: 'Deployment', resource: 'deployments', name: k.deployment } : { kind: 'StatefulSet', resource: 'statefulsets', name: k.statefulSet ?? '' }
}
