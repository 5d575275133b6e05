/**
 * What a kind of backend is (the registry in index.ts lists them): made once per running tide
 * with a BackendContext, it starts each group's GroupBackend. A kind lives in its own file
 * beside this one (local.ts).
 */
import type { Clock } from '../../core/clock.ts'
import type { Backend } from '../../controller/backend.ts'
import type { GroupSpec } from '../../spec/schema.ts'
import type { EventSink } from '../../store/events.ts'
import type { InstanceRegistry } from '../../providers/local/instance-registry.ts'
import type { Router } from '../../router/router.ts'
import type { ResourceSampler } from '../router-signals.ts'
import type { BackupRunStore } from '../backup-once.ts'

/** What every kind of backend may need from the running tide. */
export interface BackendContext {
  /** Where instance logs go (state/logs/…). */
  readonly stateDir: string
  /** Where instances are recorded, so that the next tide adopts them. */
  readonly registry: InstanceRegistry
  readonly events: EventSink
  readonly clock: Clock
  /** Cpu, memory and disk bytes per instance (the /proc sampler), for kinds that read /proc. */
  readonly sampler?: ResourceSampler
  /** Variables of tide's environment its instances never inherit (the API token's, api.tokenEnv). */
  readonly withholdEnv?: readonly string[]
  /**
   * Where backup runs are recorded (the store), so that a backup runs exactly once per instance
   * across restarts (runtime/backup-once.ts); without it each drain runs the command (tests).
   */
  readonly backupRuns?: BackupRunStore
  /** Makes the store's writes durable before a backup starts (PostgreSQL's flush); absent for SQLite, which writes at once. */
  readonly persist?: () => Promise<void>
}

/** One group's running backend: what the controller uses, and what the runtime needs to show and stop it. */
export interface GroupBackend extends Backend {
  /** Where the group's requests enter, when tide routes them (local: its router). */
  readonly endpoint?: { readonly url: string; readonly proxy: GroupSpec['routing']['proxy'] }
  /** tide's router for the group (local), for the terminal's traffic tally and failover events. */
  readonly router?: Router
  /**
   * Whether this backend can serve `next`, a changed spec of its group, from now on (a reload);
   * undefined when it can, else why not (a setting that takes a new backend: a restart).
   */
  refuses(next: GroupSpec): string | undefined
  /**
   * True where the instances are the platform's, not tide's (a Deployment's pods): tide stopping
   * leaves them running, as `tide up --keep-instances` does for local ones; a group removed from
   * the config is still scaled in. Absent (false) for local groups.
   */
  readonly keepsInstancesOnStop?: boolean
  /**
   * Stops taking requests, first thing when tide stops: tide's router (local groups) closes its
   * listener, lets the requests it accepted finish (up to routing.drainSeconds), answers the
   * ones that still come on open connections with `Connection: close` and closes idle
   * connections, so that a stop fails no request it accepted. Resolves when nothing is in
   * flight or the drain time is up. Absent where tide does not route the traffic (aws,
   * kubernetes: the load balancer or Service does).
   */
  stopTraffic?(): Promise<void>
  /** Stops what the backend runs for the group (its router); the instances are the controller's to stop first. */
  stop(): Promise<void>
  /**
   * tide stops but leaves the group serving (`tide up --keep-instances`): a data plane that
   * outlives tide (routing.dataPlane: process) is let go, still serving, for the next tide to
   * adopt. Absent, or in-process: the runtime calls stopTraffic() and stop() instead.
   */
  release?(): Promise<void>
}

/** A kind of backend, made once per running tide: starts a group's backend. */
export interface BackendKind {
  start(spec: GroupSpec): Promise<GroupBackend>
}
