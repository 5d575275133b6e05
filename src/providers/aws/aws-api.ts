/**
 * The narrow seam between the aws provider and AWS: the Auto Scaling and EC2 calls tide makes,
 * each through the official SDK v3 clients (so the standard credential chain, region and
 * endpoint settings apply, AWS_ENDPOINT_URL included), each retried with backoff while AWS
 * throttles or fails transiently, and each failure mapped to the provider error kinds the
 * controller acts on (src/providers/errors.ts). Tests stand moto's server, or a fake that speaks
 * the same query protocol, in for AWS by pointing AWS_ENDPOINT_URL (or `endpoint`) at it.
 */
import { setTimeout as delay } from 'node:timers/promises'
import {
  AutoScalingClient,
  CompleteLifecycleActionCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  DescribeLifecycleHooksCommand,
  DescribeScalingActivitiesCommand,
  SetDesiredCapacityCommand,
  TerminateInstanceInAutoScalingGroupCommand,
  UpdateAutoScalingGroupCommand,
  type Activity,
  type AutoScalingGroup,
  type AutoScalingInstanceDetails,
  type UpdateAutoScalingGroupCommandInput,
} from '@aws-sdk/client-auto-scaling'
import { CreateLaunchTemplateVersionCommand, DescribeInstancesCommand, DescribeLaunchTemplateVersionsCommand, EC2Client } from '@aws-sdk/client-ec2'
import { InsufficientCapacityError, InstanceNotFoundError, PlatformApiError, ThrottledError, type ProviderError } from '../errors.ts'

/** The provider name errors carry. */
const PROVIDER = 'aws'

/** How calls are retried: `attempts` in all, waits of baseMs, 2·baseMs, … at most maxMs between them. */
export interface RetryPolicy {
  readonly attempts: number
  readonly baseMs: number
  readonly maxMs: number
}

/** Four attempts, 200 ms doubling to 2 s between them: at most 1.4 s of waiting per call. */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseMs: 200, maxMs: 2000 }

export interface AwsApiOptions {
  readonly region: string
  /** Overrides the SDK's endpoint resolution (tests); absent, AWS_ENDPOINT_URL or the region's endpoint applies. */
  readonly endpoint?: string
  readonly retry?: RetryPolicy
  /** Waits between attempts (tests pass a recorder). */
  readonly sleep?: (ms: number) => Promise<void>
  /** Per-request timeout, ms (default 10 s); a request that takes longer fails as transient. */
  readonly requestTimeoutMs?: number
}

/** What EC2 says of an instance beyond what Auto Scaling says. */
export interface Ec2Details {
  /** When EC2 started it, epoch ms. */
  readonly launchTimeMs?: number
  readonly privateIp?: string
}

/** Throttling codes of the AWS query APIs (Auto Scaling `Throttling`, EC2 `RequestLimitExceeded`, and kin). */
const THROTTLE_CODES = new Set(['Throttling', 'ThrottlingException', 'ThrottledException', 'RequestLimitExceeded', 'TooManyRequestsException', 'RequestThrottled', 'RequestThrottledException', 'SlowDown', 'PriorRequestNotComplete', 'BandwidthLimitExceeded'])

/** Codes that say there is no room: EC2 out of an instance type, an account quota, Auto Scaling's own quotas. */
const CAPACITY_CODES = new Set(['InsufficientInstanceCapacity', 'InsufficientCapacity', 'InsufficientHostCapacity', 'InsufficientReservedInstanceCapacity', 'InstanceLimitExceeded', 'VcpuLimitExceeded', 'MaxSpotInstanceCountExceeded', 'LimitExceeded'])

/** Codes that say a later call may succeed as is. */
const TRANSIENT_CODES = new Set(['InternalFailure', 'InternalError', 'ServiceUnavailable', 'Unavailable', 'ResourceContention', 'RequestTimeout', 'RequestTimeoutException', 'TimeoutError', 'ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT'])

/** Codes that name an instance that does not exist. */
const NOT_FOUND_CODES = new Set(['InvalidInstanceID.NotFound'])

/** What a failed AWS call was, for the retry loop and the error it becomes. */
export type AwsFailureKind = 'throttled' | 'capacity' | 'transient' | 'not-found' | 'refused'

/** The error code an SDK error carries (its `name`, set from the response's Code), or a network error's `code`. */
export function awsErrorCode(err: unknown): string | undefined {
  const e = err as { name?: unknown; code?: unknown; Code?: unknown } | null | undefined
  for (const v of [e?.Code, e?.code, e?.name]) if (typeof v === 'string' && v !== '' && v !== 'Error') return v
  return undefined
}

/**
 * What kind of failure `err` is: by its AWS code first (throttled, capacity, not found,
 * transient), then by its HTTP status (5xx transient, 429 throttled), then network errors
 * (no status at all) as transient; anything else is a refusal a retry cannot fix.
 */
export function classifyAwsError(err: unknown): AwsFailureKind {
  const code = awsErrorCode(err)
  if (code !== undefined) {
    if (THROTTLE_CODES.has(code)) return 'throttled'
    if (CAPACITY_CODES.has(code)) return 'capacity'
    if (NOT_FOUND_CODES.has(code)) return 'not-found'
    if (TRANSIENT_CODES.has(code)) return 'transient'
  }
  const status = (err as { $metadata?: { httpStatusCode?: unknown } } | null | undefined)?.$metadata?.httpStatusCode
  if (status === 429) return 'throttled'
  if (typeof status === 'number') return status >= 500 ? 'transient' : 'refused'
  // No HTTP status: the request never got an answer (connection refused, reset, timed out).
  return 'transient'
}

/** The message of an SDK error, first line only (moto's HTML pages and XML parse notes are long). */
function shortMessage(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err)
  return (m.split('\n')[0] ?? m).slice(0, 300)
}

/** The provider error a failed call `op` (e.g. 'SetDesiredCapacity') becomes, by its kind. */
export function providerErrorOf(op: string, err: unknown, instanceId?: string): ProviderError {
  const kind = classifyAwsError(err)
  const code = awsErrorCode(err)
  const message = `aws ${op}: ${code === undefined ? '' : `${code}: `}${shortMessage(err)}`
  switch (kind) {
    case 'throttled':
      return new ThrottledError(PROVIDER, message, { cause: err })
    case 'capacity':
      return new InsufficientCapacityError(PROVIDER, message, { cause: err })
    case 'not-found':
      return new InstanceNotFoundError(PROVIDER, instanceId ?? '', message, { cause: err })
    case 'transient':
      return new PlatformApiError(PROVIDER, message, true, { cause: err, ...(code === undefined ? {} : { platformCode: code }) })
    case 'refused':
      return new PlatformApiError(PROVIDER, message, false, { cause: err, ...(code === undefined ? {} : { platformCode: code }) })
  }
}

/**
 * Runs `call`, again after a wait while it is throttled or fails transiently (up to
 * `policy.attempts` in all), and maps the last failure with providerErrorOf. A capacity, not-found
 * or refused failure is not retried: the same call would get the same answer.
 */
export async function withRetry<T>(op: string, call: () => Promise<T>, policy: RetryPolicy, sleep: (ms: number) => Promise<void>, instanceId?: string): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call()
    } catch (err) {
      const kind = classifyAwsError(err)
      if ((kind !== 'throttled' && kind !== 'transient') || attempt >= policy.attempts) throw providerErrorOf(op, err, instanceId)
      await sleep(Math.min(policy.maxMs, policy.baseMs * 2 ** (attempt - 1)))
    }
  }
}

/** The Auto Scaling and EC2 calls of the aws provider, in one region. */
export class AwsApi {
  readonly region: string
  readonly #asg: AutoScalingClient
  readonly #ec2: EC2Client
  readonly #retry: RetryPolicy
  readonly #sleep: (ms: number) => Promise<void>

  constructor(options: AwsApiOptions) {
    this.region = options.region
    // The SDK's own retries are off (maxAttempts 1): withRetry retries, so that every failure is classified once.
    const config = {
      region: options.region,
      maxAttempts: 1,
      // throwOnRequestTimeout: without it the SDK only logs a warning when requestTimeout passes and
      // the call waits on, for good if AWS (or a proxy on the way) never answers: a hung tick.
      requestHandler: { requestTimeout: options.requestTimeoutMs ?? 10_000, connectionTimeout: 3000, throwOnRequestTimeout: true },
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    }
    this.#asg = new AutoScalingClient(config)
    this.#ec2 = new EC2Client(config)
    this.#retry = options.retry ?? DEFAULT_RETRY
    this.#sleep = options.sleep ?? ((ms) => delay(ms))
  }

  #run<T>(op: string, call: () => Promise<T>, instanceId?: string): Promise<T> {
    return withRetry(op, call, this.#retry, this.#sleep, instanceId)
  }

  /** DescribeAutoScalingGroups for one group; undefined when there is no group of that name. */
  async describeGroup(name: string): Promise<AutoScalingGroup | undefined> {
    const out = await this.#run('DescribeAutoScalingGroups', () => this.#asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] })))
    return out.AutoScalingGroups?.find((g) => g.AutoScalingGroupName === name)
  }

  /** DescribeAutoScalingInstances for one instance; undefined when Auto Scaling does not know it (any more). */
  async describeInstance(instanceId: string): Promise<AutoScalingInstanceDetails | undefined> {
    const out = await this.#run('DescribeAutoScalingInstances', () => this.#asg.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [instanceId] })), instanceId)
    return out.AutoScalingInstances?.find((i) => i.InstanceId === instanceId)
  }

  /**
   * EC2 DescribeInstances for `ids` (by the instance-id filter, so that an id EC2 no longer knows
   * is left out rather than failing the call), all pages; launch time and private address by id.
   */
  async ec2Details(ids: readonly string[]): Promise<Map<string, Ec2Details>> {
    const out = new Map<string, Ec2Details>()
    for (let i = 0; i < ids.length; i += 200) {
      const chunk = ids.slice(i, i + 200)
      let token: string | undefined
      do {
        const next = token
        const page = await this.#run('DescribeInstances', () => this.#ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'instance-id', Values: chunk }], ...(next === undefined ? {} : { NextToken: next }) })))
        for (const r of page.Reservations ?? []) {
          for (const inst of r.Instances ?? []) {
            if (inst.InstanceId === undefined) continue
            out.set(inst.InstanceId, {
              ...(inst.LaunchTime === undefined ? {} : { launchTimeMs: inst.LaunchTime.getTime() }),
              ...(inst.PrivateIpAddress === undefined ? {} : { privateIp: inst.PrivateIpAddress }),
            })
          }
        }
        token = page.NextToken
      } while (token !== undefined && token !== '')
    }
    return out
  }

  /** SetDesiredCapacity (HonorCooldown false: tide's own rate policies govern). */
  async setDesiredCapacity(name: string, desired: number): Promise<void> {
    await this.#run('SetDesiredCapacity', () => this.#asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: name, DesiredCapacity: desired, HonorCooldown: false })))
  }

  /** UpdateAutoScalingGroup: min/max/desired (aws.ownsMinMax) or the launch template version (vertical). */
  async updateGroup(input: UpdateAutoScalingGroupCommandInput): Promise<void> {
    await this.#run('UpdateAutoScalingGroup', () => this.#asg.send(new UpdateAutoScalingGroupCommand(input)))
  }

  /** TerminateInstanceInAutoScalingGroup. */
  async terminateInstance(instanceId: string, decrementDesired: boolean): Promise<void> {
    await this.#run('TerminateInstanceInAutoScalingGroup', () => this.#asg.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: instanceId, ShouldDecrementDesiredCapacity: decrementDesired })), instanceId)
  }

  /** The names of the group's lifecycle hooks on the terminating transition. */
  async terminatingHooks(name: string): Promise<string[]> {
    const out = await this.#run('DescribeLifecycleHooks', () => this.#asg.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: name })))
    return (out.LifecycleHooks ?? []).filter((h) => h.LifecycleTransition === 'autoscaling:EC2_INSTANCE_TERMINATING' && h.LifecycleHookName !== undefined).map((h) => h.LifecycleHookName as string)
  }

  /** CompleteLifecycleAction with CONTINUE: the hook lets the instance go on to its next state. */
  async completeLifecycleAction(name: string, hook: string, instanceId: string): Promise<void> {
    await this.#run('CompleteLifecycleAction', () => this.#asg.send(new CompleteLifecycleActionCommand({ AutoScalingGroupName: name, LifecycleHookName: hook, InstanceId: instanceId, LifecycleActionResult: 'CONTINUE' })), instanceId)
  }

  /** The group's most recent scaling activities, newest first (at most 20). */
  async scalingActivities(name: string): Promise<Activity[]> {
    const out = await this.#run('DescribeScalingActivities', () => this.#asg.send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: name, MaxRecords: 20 })))
    return out.Activities ?? []
  }

  /** The instance type a launch template version sets (Version may be a number, `$Latest` or `$Default`); undefined when it sets none. */
  async launchTemplateType(templateId: string, version: string): Promise<string | undefined> {
    const out = await this.#run('DescribeLaunchTemplateVersions', () => this.#ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: templateId, Versions: [version] })))
    return out.LaunchTemplateVersions?.[0]?.LaunchTemplateData?.InstanceType
  }

  /** CreateLaunchTemplateVersion from `sourceVersion` with `instanceType`; the new version's number. */
  async createLaunchTemplateVersion(templateId: string, sourceVersion: string, instanceType: string, description: string): Promise<number> {
    const out = await this.#run('CreateLaunchTemplateVersion', () =>
      this.#ec2.send(new CreateLaunchTemplateVersionCommand({ LaunchTemplateId: templateId, SourceVersion: sourceVersion, VersionDescription: description, LaunchTemplateData: { InstanceType: instanceType as never } })),
    )
    const n = out.LaunchTemplateVersion?.VersionNumber
    if (n === undefined) throw new PlatformApiError(PROVIDER, `aws CreateLaunchTemplateVersion: the answer carries no version number (template ${templateId})`, true)
    return n
  }

  /** Closes the clients' connections. */
  destroy(): void {
    this.#asg.destroy()
    this.#ec2.destroy()
  }
}
