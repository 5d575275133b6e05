/**
 * `tide up --leader-lease NAMESPACE/NAME`: leader election for tide in a cluster
 * (src/controller/leader-election.ts over a coordination.k8s.io Lease). The replica waits,
 * doing nothing else, until it holds the lease; from then on the lease is renewed in the
 * background, and losing it is a value `tide up` waits on beside the signals. The candidate's
 * identity is the pod's name (POD_NAME, set from the downward API in
 * deploy/kubernetes/tide.yaml), else HOSTNAME and the pid.
 */
import { hostname } from 'node:os'
import { systemClock } from '../core/clock.ts'
import { LeaseElector } from '../controller/leader-election.ts'
import { KubeClient, loadKubeConfig } from '../providers/kubernetes/kube-client.ts'
import { kubeLeaseApi, parseLeaseRef } from '../runtime/lease-api.ts'
import { UsageError, type CommandIo, type FlagSpec, type ParsedArgs } from './args.ts'

/** The flag, for `tide up`'s table. */
export const leaderFlags: Readonly<Record<string, FlagSpec>> = {
  'leader-lease': { kind: 'string', description: 'act only while holding this coordination.k8s.io Lease (tide in a cluster, several replicas)', valueName: 'NAMESPACE/NAME' },
}

/** A held lease: `lost` resolves (`lost lease NS/NAME: why`) if it is lost; release() hands it over on a clean stop. */
export interface Leadership {
  readonly lost: Promise<string>
  release(): Promise<void>
}

/**
 * Waits until this replica holds the lease the flag names, printing who holds it meanwhile;
 * undefined when `signal` (SIGINT or SIGTERM, up.ts untilSignal) came first: nothing was
 * started, so there is nothing to stop.
 */
export async function waitForLeadership(args: ParsedArgs, io: CommandIo, signal: Promise<string>): Promise<Leadership | undefined> {
  const text = args.string('leader-lease') ?? ''
  const ref = parseLeaseRef(text)
  if (ref === undefined) throw new UsageError('tide up', `--leader-lease ${text}: expected NAMESPACE/NAME (two lower-case DNS names), e.g. tide-system/tide`)
  const identity = process.env.POD_NAME ?? `${process.env.HOSTNAME ?? hostname()}-${String(process.pid)}`
  let lastError = ''
  const elector = new LeaseElector({
    api: kubeLeaseApi(new KubeClient(loadKubeConfig()), ref.namespace, ref.name),
    identity,
    clock: systemClock,
    onError: (err) => {
      // Said once per distinct failure: an unreachable API server would otherwise print every second.
      const message = err instanceof Error ? err.message : String(err)
      if (message === lastError) return
      lastError = message
      io.stdout.write(`leader election: lease ${text}: ${message}\n`)
    },
  })
  io.stdout.write(`leader election: lease ${text} as ${identity}\n`)
  const ac = new AbortController()
  const signalled = signal.then((sig) => {
    ac.abort()
    return sig
  })
  try {
    await elector.acquire(ac.signal, (holder) => io.stdout.write(`waiting: lease ${text} is held by ${holder === '' ? 'nobody (released)' : holder}\n`))
  } catch (err) {
    if (ac.signal.aborted) {
      io.stdout.write(`\n${await signalled}: stopped while waiting for the lease\n`)
      return undefined
    }
    throw err
  }
  io.stdout.write(`leading: lease ${text} held by ${identity}\n`)
  const lost = new Promise<string>((resolve) => {
    elector.onLost((why) => {
      resolve(`lost lease ${text}: ${why}`)
    })
  })
  return { lost, release: () => elector.release() }
}
