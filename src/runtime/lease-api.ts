/**
 * The LeaseApi of leader election (src/controller/leader-election.ts) over one
 * coordination.k8s.io/v1 Lease through KubeClient: read (undefined when absent), create and
 * update with the resourceVersion; a 409 Conflict (another candidate wrote first) answers
 * 'conflict', every other failure throws (the elector logs it and tries again).
 */
import type * as k8s from '@kubernetes/client-node'
import type { LeaseApi, LeaseRecord } from '../controller/leader-election.ts'
import { ConflictError, wire, type KubeClient } from '../providers/kubernetes/kube-client.ts'

/** A LeaseApi for the lease `name` in `namespace`. */
export function kubeLeaseApi(client: KubeClient, namespace: string, name: string): LeaseApi {
  const write = async (run: () => Promise<k8s.V1Lease>): Promise<LeaseRecord | 'conflict'> => {
    try {
      return recordOf(await run())
    } catch (err) {
      if (err instanceof ConflictError) return 'conflict'
      throw err
    }
  }
  return {
    read: async () => {
      const l = await client.readLease(namespace, name)
      return l === undefined ? undefined : recordOf(l)
    },
    create: (lease) => write(() => client.createLease(namespace, leaseOf(name, lease))),
    replace: (lease) => write(() => client.replaceLease(namespace, leaseOf(name, lease))),
  }
}

/** `NAMESPACE/NAME` → its parts; undefined when it is not two DNS-1123 names. */
export function parseLeaseRef(text: string): { readonly namespace: string; readonly name: string } | undefined {
  const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/.exec(text)
  return m === null ? undefined : { namespace: m[1] ?? '', name: m[3] ?? '' }
}

function leaseOf(name: string, r: LeaseRecord): k8s.V1Lease {
  return wire<k8s.V1Lease>({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, ...(r.resourceVersion === undefined ? {} : { resourceVersion: r.resourceVersion }) },
    spec: {
      holderIdentity: r.holderIdentity,
      leaseDurationSeconds: r.leaseDurationSeconds,
      acquireTime: r.acquireTime,
      renewTime: r.renewTime,
      leaseTransitions: r.leaseTransitions,
    },
  })
}

function recordOf(l: k8s.V1Lease): LeaseRecord {
  const s = l.spec
  return {
    holderIdentity: s?.holderIdentity,
    leaseDurationSeconds: s?.leaseDurationSeconds,
    acquireTime: timeText(s?.acquireTime),
    renewTime: timeText(s?.renewTime),
    leaseTransitions: s?.leaseTransitions,
    resourceVersion: l.metadata?.resourceVersion,
  }
}

/** client-node hands MicroTime over as it came (a string), or as a Date from other paths. */
function timeText(t: unknown): string | undefined {
  if (t instanceof Date) return t.toISOString()
  return typeof t === 'string' ? t : undefined
}
