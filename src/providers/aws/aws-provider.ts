/**
 * The `aws` provider: a tide group drives one EC2 Auto Scaling group (the group's `aws`
 * section, spec/aws.ts). Instances are the group's members (DescribeAutoScalingGroups, with EC2
 * DescribeInstances for launch time and address), their lifecycle states mapped to tide's
 * statuses (lifecycle-states.ts); a launch raises the desired capacity (SetDesiredCapacity within
 * the group's own min/max, or UpdateAutoScalingGroup with tide's replicas when aws.ownsMinMax);
 * a terminate takes the instance the controller chose, after its drain, with
 * TerminateInstanceInAutoScalingGroup decrementing the desired capacity, and completes the
 * group's terminating lifecycle hooks; a launch of another size first points the group at a new
 * launch template version with that size's instance type (aws.instanceTypes), so the controller's
 * launch-before-terminate replaces the instances. Everything tide knows is on AWS, so a new tide
 * adopts what it finds; docs/providers.md ("AWS") has the calls, the IAM policy and the tables.
 */
import type { AutoScalingGroup, AutoScalingInstanceDetails, Instance } from '@aws-sdk/client-auto-scaling'
import { sameSize } from '../../core/size.ts'
import type { Clock } from '../../core/clock.ts'
import type { InstanceHealth } from '../../core/health.ts'
import type { AwsSpec } from '../../spec/aws.ts'
import type { GroupSpec, Size } from '../../spec/schema.ts'
import { InsufficientCapacityError, LaunchFailedError, ProviderConfigError } from '../errors.ts'
import type { InstanceRecord, Provider, ProviderCapabilities } from '../provider.ts'
import type { AwsApi, Ec2Details } from './aws-api.ts'
import { countsTowardDesired, isCapacityFailure, isLeaving, statusOfLifecycleState } from './lifecycle-states.ts'

export interface AwsProviderOptions {
  /** The API of a region (one per region; the backend caches them). */
  readonly apiFor: (region: string) => AwsApi
  readonly clock: Clock
  /** Waits between polls (launch, lifecycle hooks); tests may shorten them. */
  readonly sleep?: (ms: number) => Promise<void>
  /** Between polls while a launch or a terminate waits for AWS, ms (default 500). */
  readonly pollMs?: number
}

/** What the provider last saw of an instance: for the health view and the ready time. */
interface Seen {
  readonly group: string
  /** When this provider first listed it, epoch ms: its launch time when EC2 does not say. */
  readonly firstSeenMs: number
  readonly lifecycleState: string | undefined
  readonly healthStatus: string | undefined
  /** When this provider first saw it InService (or its launch time, when it was InService at first sight). */
  readyAtMs: number | undefined
}

/** The group's aws section, or a ProviderConfigError naming the group. */
function awsOf(spec: GroupSpec): AwsSpec {
  if (spec.aws === undefined) throw new ProviderConfigError('aws', `group ${spec.group}: provider aws needs aws: { autoScalingGroupName, region }`)
  return spec.aws
}

/** The named sizes of a group, the size in force first. */
function sizesOf(spec: GroupSpec): Size[] {
  return [spec.size, ...spec.sizes]
}

/**
 * The EC2 instance type of `size`: aws.instanceTypes[size.name]. Undefined when the group maps no
 * types at all (it never changes size: every instance is spec.size); a ProviderConfigError when it
 * maps some but not this size's.
 */
export function instanceTypeOf(spec: GroupSpec, size: Size): string | undefined {
  const types = awsOf(spec).instanceTypes
  if (Object.keys(types).length === 0) {
    if (sameSize(size, spec.size)) return undefined
    throw new ProviderConfigError('aws', `group ${spec.group}: size (cpu ${size.cpu}, ${size.memoryMiB} MiB) has no instance type: map sizes to types in aws.instanceTypes`)
  }
  const type = size.name === undefined ? undefined : types[size.name]
  if (type === undefined) throw new ProviderConfigError('aws', `group ${spec.group}: size ${size.name ?? `(cpu ${size.cpu}, ${size.memoryMiB} MiB)`} has no instance type in aws.instanceTypes`)
  return type
}

/** The size an instance of EC2 type `type` is: the group's size whose name aws.instanceTypes maps to it, else spec.size. */
export function sizeOfInstanceType(spec: GroupSpec, type: string | undefined): Size {
  const types = awsOf(spec).instanceTypes
  if (type === undefined) return spec.size
  for (const s of sizesOf(spec)) if (s.name !== undefined && types[s.name] === type) return s
  return spec.size
}

/**
 * The record of ASG member `m` (its id `id`), or undefined when it is gone (Terminated, Detached).
 * `readyAtMs` is kept only while it runs; `meta` holds what status shows of it (never secrets).
 */
function recordOf(spec: GroupSpec, m: Instance, id: string, launchedAtMs: number, readyAtMs: number | undefined, detail: Ec2Details | undefined): InstanceRecord | undefined {
  const status = statusOfLifecycleState(m.LifecycleState)
  if (status === undefined) return undefined
  const meta: Record<string, string> = { instanceId: id, lifecycleState: m.LifecycleState ?? 'unknown', healthStatus: m.HealthStatus ?? 'unknown' }
  if (m.InstanceType !== undefined) meta.instanceType = m.InstanceType
  if (m.AvailabilityZone !== undefined) meta.availabilityZone = m.AvailabilityZone
  if (m.LaunchTemplate?.Version !== undefined) meta.launchTemplateVersion = m.LaunchTemplate.Version
  if (detail?.privateIp !== undefined) meta.privateIp = detail.privateIp
  return {
    id,
    group: spec.group,
    status,
    size: sizeOfInstanceType(spec, m.InstanceType),
    launchedAtMs,
    ...(status === 'running' && readyAtMs !== undefined ? { readyAtMs } : {}),
    ...(m.ProtectedFromScaleIn === true ? { protectedFromScaleIn: true } : {}),
    meta,
  }
}

/** The tide provider for EC2 Auto Scaling groups. One object serves every aws group of a running tide. */
export class AwsProvider implements Provider {
  readonly name = 'aws'
  readonly capabilities: ProviderCapabilities = { resize: 'replace', adopts: true }
  readonly #o: AwsProviderOptions
  readonly #sleep: (ms: number) => Promise<void>
  /** By instance id (ids are unique across groups and regions). */
  readonly #seen = new Map<string, Seen>()
  /** Instances whose termination tide asked for: their terminating hooks are tide's to complete. */
  readonly #terminating = new Set<string>()

  constructor(options: AwsProviderOptions) {
    this.#o = options
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)))
  }

  /** The ids of the group's instances as last listed (for its CloudWatch signals); empty before the first list. */
  instanceIds(group: string): string[] {
    const out: string[] = []
    for (const [id, s] of this.#seen) if (s.group === group && statusOfLifecycleState(s.lifecycleState) !== undefined) out.push(id)
    return out
  }

  /** Instance health from the Auto Scaling group's own checks (EC2 status, ELB when the group uses it), as last listed. */
  health(instanceId: string): InstanceHealth {
    const s = this.#seen.get(instanceId)
    if (s?.lifecycleState !== 'InService') return 'unknown'
    if (s.healthStatus === 'Healthy') return 'healthy'
    if (s.healthStatus === 'Unhealthy') return 'unhealthy'
    return 'unknown'
  }

  async list(spec: GroupSpec): Promise<InstanceRecord[]> {
    const aws = awsOf(spec)
    const api = this.#o.apiFor(aws.region)
    const g = await this.#group(api, spec)
    if (aws.ownsMinMax) await this.#ownMinMax(api, spec, g)
    const members = g.Instances ?? []
    const details = members.length === 0 ? new Map<string, Ec2Details>() : await api.ec2Details(members.flatMap((m) => (m.InstanceId === undefined ? [] : [m.InstanceId])))
    const nowMs = this.#o.clock.now()
    const out: InstanceRecord[] = []
    const present = new Set<string>()
    for (const m of members) {
      const id = m.InstanceId
      if (id === undefined) continue
      present.add(id)
      if (m.LifecycleState === 'Terminating:Wait' && this.#terminating.has(id)) await this.#completeHooks(api, aws.autoScalingGroupName, id)
      const detail = details.get(id)
      const launchedAtMs = detail?.launchTimeMs ?? this.#seen.get(id)?.firstSeenMs ?? nowMs
      const seen = this.#note(spec.group, id, m.LifecycleState, m.HealthStatus, launchedAtMs, nowMs)
      const record = recordOf(spec, m, id, launchedAtMs, seen.readyAtMs, detail)
      if (record !== undefined) out.push(record)
    }
    for (const [id, s] of this.#seen) if (s.group === spec.group && !present.has(id)) this.#seen.delete(id)
    for (const id of [...this.#terminating]) if (!present.has(id) && !this.#seen.has(id)) this.#terminating.delete(id)
    return out
  }

  /**
   * Raises the group's desired capacity by `count` over the instances that count toward it, within
   * its max (the ASG's MaxSize, or replicas.max with aws.ownsMinMax), after pointing the group at
   * `size`'s instance type when it launches another. Waits up to aws.launchWaitSeconds for the new
   * instances to appear and returns those that did (the rest appear in later lists). Never
   * raises twice for one need: the target is max(desired, counted + count), so instances AWS is
   * still launching are not asked for again.
   * - no room under the max: InsufficientCapacityError (the controller backs off and alerts);
   * - a scaling activity that fails meanwhile: the desired capacity goes back to what exists, and
   *   InsufficientCapacityError (no capacity, a quota) or a LaunchFailedError (anything else).
   */
  async launch(spec: GroupSpec, size: Size, count: number): Promise<InstanceRecord[]> {
    if (count <= 0) return []
    const aws = awsOf(spec)
    const api = this.#o.apiFor(aws.region)
    const name = aws.autoScalingGroupName
    const startedMs = this.#o.clock.now()
    let g = await this.#group(api, spec)
    await this.#useInstanceType(api, spec, g, size)
    const counted = (g.Instances ?? []).filter((m) => countsTowardDesired(m.LifecycleState))
    const before = new Set(counted.map((m) => m.InstanceId))
    const desired = g.DesiredCapacity ?? counted.length
    const max = aws.ownsMinMax ? spec.replicas.max : (g.MaxSize ?? desired)
    const want = Math.min(max, Math.max(desired, counted.length + count))
    if (want <= counted.length) {
      throw new InsufficientCapacityError('aws', `group ${spec.group}: Auto Scaling group ${name} is at its ${aws.ownsMinMax ? 'replicas.max' : 'MaxSize'} ${max} with ${counted.length} instance(s); ${count} more refused (${aws.ownsMinMax ? 'raise replicas.max' : 'raise the group\'s MaxSize or set aws.ownsMinMax'})`)
    }
    if (want > desired) {
      if (aws.ownsMinMax) await api.updateGroup({ AutoScalingGroupName: name, MinSize: spec.replicas.min, MaxSize: spec.replicas.max, DesiredCapacity: want })
      else await api.setDesiredCapacity(name, want)
    }
    // Wait (bounded) for the new instances, watching the scaling activities for a refusal.
    const deadlineMs = startedMs + aws.launchWaitSeconds * 1000
    // Also bounded by the polls made (their sleeps add up to the wait): a step back of the clock cannot stretch the wait by the step's length.
    const pollMs = this.#o.pollMs ?? 500
    let polls = 0
    for (;;) {
      g = await this.#group(api, spec)
      const fresh = (g.Instances ?? []).filter((m) => countsTowardDesired(m.LifecycleState) && !before.has(m.InstanceId))
      if (fresh.length >= want - counted.length) break
      const failure = await this.#failedActivity(api, name, startedMs)
      if (failure !== undefined) {
        const have = counted.length + fresh.length
        // Unconditionally: AWS would go on trying to reach the raised capacity behind tide's back.
        await api.setDesiredCapacity(name, have)
        const message = `group ${spec.group}: Auto Scaling group ${name} could not launch (desired ${want}, ${have} exist; desired set back to ${have}): ${failure}`
        throw isCapacityFailure(failure) ? new InsufficientCapacityError('aws', message) : new LaunchFailedError('aws', message, true)
      }
      if (this.#o.clock.now() >= deadlineMs || ++polls * pollMs >= aws.launchWaitSeconds * 1000) break
      await this.#sleep(pollMs)
    }
    const listed = await this.list(spec)
    return listed.filter((r) => !before.has(r.id) && (r.status === 'starting' || r.status === 'running'))
  }

  /**
   * Terminates one instance after its drain: TerminateInstanceInAutoScalingGroup decrementing the
   * desired capacity (not for a Standby instance, which is out of the desired capacity already),
   * then, when the group has terminating lifecycle hooks, waits up to aws.hookWaitSeconds for the
   * instance to reach Terminating:Wait and completes each hook with CONTINUE. Idempotent: an
   * instance Auto Scaling no longer knows, or one already terminating, is done (one held in
   * Terminating:Wait gets its hooks completed).
   */
  async terminate(spec: GroupSpec, instanceId: string): Promise<void> {
    const aws = awsOf(spec)
    const api = this.#o.apiFor(aws.region)
    const name = aws.autoScalingGroupName
    const d = await api.describeInstance(instanceId)
    if (d === undefined || d.AutoScalingGroupName !== name || d.LifecycleState === 'Terminated' || d.LifecycleState === 'Detached') {
      this.#seen.delete(instanceId)
      return
    }
    if (!isLeaving(d.LifecycleState)) {
      const standby = d.LifecycleState === 'Standby' || d.LifecycleState === 'EnteringStandby'
      await api.terminateInstance(instanceId, !standby)
    }
    this.#terminating.add(instanceId)
    const hooks = await api.terminatingHooks(name)
    if (hooks.length === 0) return
    const deadlineMs = this.#o.clock.now() + aws.hookWaitSeconds * 1000
    // Bounded by the polls too, as the launch's wait is.
    const pollMs = this.#o.pollMs ?? 500
    let polls = 0
    let state: AutoScalingInstanceDetails | undefined = d
    for (;;) {
      if (state === undefined || state.LifecycleState === 'Terminated' || state.LifecycleState === 'Terminating:Proceed') return
      if (state.LifecycleState === 'Terminating:Wait') {
        await this.#completeHooks(api, name, instanceId, hooks)
        return
      }
      // Still on its way (Terminating: the load balancer's deregistration delay): the next list() completes it if this wait ends first.
      if (this.#o.clock.now() >= deadlineMs || ++polls * pollMs >= aws.hookWaitSeconds * 1000) return
      await this.#sleep(pollMs)
      state = await api.describeInstance(instanceId)
    }
  }

  /** Completes each terminating hook for the instance (a hook with no action pending for it refuses, which is fine). */
  async #completeHooks(api: AwsApi, name: string, instanceId: string, hooks?: readonly string[]): Promise<void> {
    for (const hook of hooks ?? (await api.terminatingHooks(name))) {
      try {
        await api.completeLifecycleAction(name, hook, instanceId)
      } catch (err) {
        // "No active Lifecycle Action found": this hook holds nothing for the instance (another hook does, or it timed out).
        if ((err as { platformCode?: unknown }).platformCode !== 'ValidationError') throw err
      }
    }
    this.#terminating.delete(instanceId)
  }

  /** The group's Auto Scaling group, or a ProviderConfigError naming both when there is none. */
  async #group(api: AwsApi, spec: GroupSpec): Promise<AutoScalingGroup> {
    const aws = awsOf(spec)
    const g = await api.describeGroup(aws.autoScalingGroupName)
    if (g === undefined) throw new ProviderConfigError('aws', `group ${spec.group}: no Auto Scaling group named ${aws.autoScalingGroupName} in ${aws.region} (aws.autoScalingGroupName)`)
    return g
  }

  /** With aws.ownsMinMax: the ASG's MinSize/MaxSize set to replicas.min/max (and its desired capacity into them) when they differ. */
  async #ownMinMax(api: AwsApi, spec: GroupSpec, g: AutoScalingGroup): Promise<void> {
    const { min, max } = spec.replicas
    if (g.MinSize === min && g.MaxSize === max) return
    const desired = Math.min(max, Math.max(min, g.DesiredCapacity ?? min))
    await api.updateGroup({ AutoScalingGroupName: awsOf(spec).autoScalingGroupName, MinSize: min, MaxSize: max, ...(desired === g.DesiredCapacity ? {} : { DesiredCapacity: desired }) })
  }

  /**
   * Points the group at `size`'s instance type: when its launch template's version sets another
   * type, a new version from it with this type (CreateLaunchTemplateVersion) becomes the group's
   * (UpdateAutoScalingGroup). New instances then have that type; the controller drains and
   * terminates the old ones once the new ones serve.
   */
  async #useInstanceType(api: AwsApi, spec: GroupSpec, g: AutoScalingGroup, size: Size): Promise<void> {
    const type = instanceTypeOf(spec, size)
    if (type === undefined) return
    const name = awsOf(spec).autoScalingGroupName
    if (g.MixedInstancesPolicy !== undefined) throw new ProviderConfigError('aws', `group ${spec.group}: Auto Scaling group ${name} uses a mixed instances policy; tide changes instance types only through a plain launch template`)
    const lt = g.LaunchTemplate
    if (lt?.LaunchTemplateId === undefined) throw new ProviderConfigError('aws', `group ${spec.group}: Auto Scaling group ${name} has no launch template (a launch configuration?); tide changes instance types only through a launch template`)
    const version = lt.Version ?? '$Default'
    const current = await api.launchTemplateType(lt.LaunchTemplateId, version)
    if (current === type) return
    const created = await api.createLaunchTemplateVersion(lt.LaunchTemplateId, version, type, `tide: group ${spec.group} size ${size.name ?? ''} (${type})`)
    await api.updateGroup({ AutoScalingGroupName: name, LaunchTemplate: { LaunchTemplateId: lt.LaunchTemplateId, Version: String(created) } })
  }

  /** The status message of a scaling activity of the group that failed or was cancelled since `sinceMs` (less a second of clock skew), if any. */
  async #failedActivity(api: AwsApi, name: string, sinceMs: number): Promise<string | undefined> {
    const activities = await api.scalingActivities(name)
    for (const a of activities) {
      if (a.StatusCode !== 'Failed' && a.StatusCode !== 'Cancelled') continue
      if (a.StartTime !== undefined && a.StartTime.getTime() < sinceMs - 1000) continue
      return a.StatusMessage ?? a.Description ?? `activity ${a.ActivityId ?? ''} ${a.StatusCode}`
    }
    return undefined
  }

  /** Records what was seen of an instance now; the ready time is set once, at the first sight InService. */
  #note(group: string, id: string, lifecycleState: string | undefined, healthStatus: string | undefined, launchedAtMs: number, nowMs: number): Seen {
    const prev = this.#seen.get(id)
    let readyAtMs = prev?.readyAtMs
    if (readyAtMs === undefined && lifecycleState === 'InService') readyAtMs = prev === undefined ? launchedAtMs : nowMs
    const seen: Seen = { group, firstSeenMs: prev?.firstSeenMs ?? nowMs, lifecycleState, healthStatus, readyAtMs }
    this.#seen.set(id, seen)
    return seen
  }
}
