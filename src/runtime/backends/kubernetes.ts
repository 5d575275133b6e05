/**
 * The `kubernetes` backend: instances are the pods of a Deployment or StatefulSet
 * (KubernetesProvider), signals are metrics.k8s.io's cpu and memory per pod (PodMetricsSignals)
 * plus the group's external sources, health is the pods' own readiness (the provider's status:
 * a pod is 'running' once Ready), and traffic is the cluster's: a Service routes to ready pods
 * by itself, so setTargets has nothing to do, and a drain resolves at once: Kubernetes takes a
 * terminating pod out of the Service's endpoints and runs its preStop hook and grace period
 * (terminationGracePeriodSeconds) when the scale-down removes it.
 *
 * The pods are the cluster's, not tide's: tide stopping leaves them running (keepsInstancesOnStop),
 * so the data plane outlives the control plane; a group removed from the config still scales in.
 * The kubeconfig is loaded once per running tide (KUBECONFIG, ~/.kube/config, in-cluster).
 */
import { unknownHealth, type Traffic } from '../../controller/backend.ts'
import { withExternalSignals } from '../../controller/metrics-source.ts'
import { ExternalSignals } from '../../metrics/external/external-signals.ts'
import { PodMetricsSignals } from '../pod-metrics.ts'
import { ProviderConfigError } from '../../providers/errors.ts'
import { KubeClient, loadKubeConfig } from '../../providers/kubernetes/kube-client.ts'
import { KubernetesProvider } from '../../providers/kubernetes/kubernetes-provider.ts'
import type { GroupSpec } from '../../spec/schema.ts'
import type { BackendContext, BackendKind, GroupBackend } from './backend-kind.ts'

/** A Service routes by readiness: nothing to set, and Kubernetes drains a pod as it removes it. */
const clusterTraffic: Traffic = {
  setTargets: () => undefined,
  drain: () => Promise.resolve(),
}

/**
 * The kubernetes kind: one client (one kubeconfig) for the running tide, one provider per group.
 * `client` is for tests (a kubeconfig made for the fake API server); loaded from the usual
 * places when absent.
 */
export function kubernetesBackends(_ctx: BackendContext, client?: KubeClient): BackendKind {
  let shared = client
  return {
    async start(spec: GroupSpec): Promise<GroupBackend> {
      const k = spec.kubernetes
      if (k === undefined) throw new ProviderConfigError('kubernetes', `group ${spec.group}: provider kubernetes needs kubernetes: { namespace, deployment }`)
      shared ??= new KubeClient(loadKubeConfig())
      const provider = new KubernetesProvider({ client: shared })
      await provider.discover()
      const signals = new PodMetricsSignals({ client: shared, namespace: k.namespace, container: k.container })
      return {
        provider,
        signals: withExternalSignals(signals, new ExternalSignals()),
        health: unknownHealth,
        traffic: clusterTraffic,
        keepsInstancesOnStop: true,
        refuses: (next) => refusesChange(spec, next),
        stop: () => provider.stop(),
      }
    },
  }
}

/** Why a running kubernetes group cannot take `next` without a restart: its watch was built for one workload. */
function refusesChange(spec: GroupSpec, next: GroupSpec): string | undefined {
  if (next.provider !== spec.provider) return `group ${spec.group}: provider ${spec.provider} → ${next.provider} takes a restart of tide up (remove the group, reload, then add it back)`
  if (JSON.stringify(spec.kubernetes) !== JSON.stringify(next.kubernetes)) return `group ${spec.group}: kubernetes changed; the group watches one workload's pods, so another workload takes a restart of tide up`
  return undefined
}
