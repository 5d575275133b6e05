/**
 * Errors every provider raises (src/providers/provider.ts promises ProviderError
 * subclasses). Their codes, HTTP statuses and retryable flags are in the one registry
 * (src/errors.ts, listed in docs/errors.md). Three kinds say what happened on the platform,
 * as Karpenter's cloudprovider errors do (`IsNodeClaimNotFoundError`,
 * `InsufficientCapacityError`) and Karpenter-AWS's `IsRateLimitedError`: ThrottledError (the
 * API's rate limit), InsufficientCapacityError (no room for this size) and
 * InstanceNotFoundError (the instance is gone). The controller acts on each kind
 * (src/controller/provider-failures.ts): a throttle makes every call of the group wait, a
 * capacity shortage makes launches of that size back off, a terminate of an instance that
 * is not found counts as done; any other failure goes by `isRetryableProviderError()`.
 */
import { TideError, isRetryable, isTideError, isTideErrorOf, type TideErrorCode } from '../errors.ts'

/** The codes of provider errors: the registry's `TIDE_ERR_PROVIDER_*` codes. */
export type ProviderErrorCode = Extract<TideErrorCode, `TIDE_ERR_PROVIDER_${string}`>

/**
 * The base of provider errors. `retryable` (from the registry, or given for a launch
 * failure) says whether the same call may succeed later without a change of configuration
 * (a process that started without a pid, a timeout) as opposed to a mistake an operator must fix (a missing
 * executable).
 */
export class ProviderError extends TideError {
  declare readonly code: ProviderErrorCode
  /** The provider's name ('local', 'kubernetes', …). */
  readonly provider: string

  constructor(code: ProviderErrorCode, provider: string, message: string, options?: ErrorOptions & { readonly retryable?: boolean }) {
    super(code, message, options)
    this.provider = provider
  }
}

/** An instance could not be launched; the message names the group and the command's argv[0]. */
export class LaunchFailedError extends ProviderError {
  constructor(provider: string, message: string, retryable: boolean, options?: ErrorOptions) {
    super('TIDE_ERR_PROVIDER_LAUNCH', provider, message, { ...options, retryable })
  }
}

/** The group's configuration does not suit the provider; never retryable. */
export class ProviderConfigError extends ProviderError {
  constructor(provider: string, message: string, options?: ErrorOptions) {
    super('TIDE_ERR_PROVIDER_CONFIG', provider, message, options)
  }
}

/** The instance registry cannot be read or written; the message names the file. Retryable (a full disk may clear). */
export class RegistryError extends ProviderError {
  constructor(provider: string, message: string, options?: ErrorOptions) {
    super('TIDE_ERR_PROVIDER_REGISTRY', provider, message, options)
  }
}

/**
 * The platform's API refused a call for its rate limit (AWS `Throttling`/`RequestLimitExceeded`,
 * Kubernetes 429 Too Many Requests). Retryable after a wait: `retryAfterMs` when the platform
 * said how long (a Retry-After header), else the controller's own backoff (1 s doubling to 60 s).
 */
export class ThrottledError extends ProviderError {
  /** How long the platform asked callers to wait, ms (≥ 0); undefined when it did not say. */
  readonly retryAfterMs: number | undefined

  constructor(provider: string, message: string, options?: ErrorOptions & { readonly retryAfterMs?: number }) {
    const { retryAfterMs, ...errorOptions } = options ?? {}
    super('TIDE_ERR_PROVIDER_THROTTLED', provider, message, errorOptions)
    this.retryAfterMs = retryAfterMs === undefined || !Number.isFinite(retryAfterMs) ? undefined : Math.max(0, retryAfterMs)
  }
}

/**
 * The platform has no room for instances of this size now (EC2 `InsufficientInstanceCapacity`,
 * a cluster whose nodes are full, a machine out of processes). Retryable later, when room
 * frees up; the controller backs launches of that size off (10 s doubling to 5 min).
 */
export class InsufficientCapacityError extends ProviderError {
  constructor(provider: string, message: string, options?: ErrorOptions) {
    super('TIDE_ERR_PROVIDER_CAPACITY', provider, message, options)
  }
}

/**
 * The instance a call names does not exist on the platform (any more). Not retryable: it is
 * gone. A terminate that gets it has nothing left to do, so the controller counts it as done.
 */
export class InstanceNotFoundError extends ProviderError {
  /** The id the call named. */
  readonly instanceId: string

  constructor(provider: string, instanceId: string, message: string, options?: ErrorOptions) {
    super('TIDE_ERR_PROVIDER_NOT_FOUND', provider, message, options)
    this.instanceId = instanceId
  }
}

/**
 * The platform's API failed a call for another reason than its rate limit or capacity (AWS:
 * an InternalFailure or a network error, retryable; AccessDenied or a ValidationError, not).
 * `retryable` is given per error; the message names the call and the platform's error code.
 */
export class PlatformApiError extends ProviderError {
  /** The platform's own error code (`AccessDenied`, `ValidationError`, `ECONNRESET`), when it gave one. */
  readonly platformCode: string | undefined

  constructor(provider: string, message: string, retryable: boolean, options?: ErrorOptions & { readonly platformCode?: string }) {
    const { platformCode, ...errorOptions } = options ?? {}
    super('TIDE_ERR_PROVIDER_API', provider, message, { ...errorOptions, retryable })
    this.platformCode = platformCode
  }
}

/**
 * A provider action refused because this tide does not know it holds the leadership lease
 * (docs/ha.md): the fenced backend (src/controller/fenced-backend.ts) raises it before calling
 * the provider, so nothing reached the platform. Never retryable by this tide: a tide that lost
 * the lease stops; the new leader acts.
 */
export class FencedActionError extends ProviderError {
  /** The action refused: 'launch', 'terminate', 'resize', 'drain' or 'detach'. */
  readonly action: string

  constructor(provider: string, action: string, message: string) {
    super('TIDE_ERR_PROVIDER_FENCED', provider, message)
    this.action = action
  }
}

/**
 * Whether `err` is a provider error, of any code or of `code`. By shape (a
 * `TIDE_ERR_PROVIDER_*` code), as every `is…` helper, so a copy from a second
 * installed tide counts too.
 */
export function isProviderError(err: unknown, code?: ProviderErrorCode): err is ProviderError {
  return isTideErrorOf(err, 'TIDE_ERR_PROVIDER_', code)
}

/**
 * Whether the controller should retry the call that threw `err`. A TideError answers
 * with its registry flag (isRetryable). Errors that are not TideErrors (bugs, unexpected
 * system errors) are treated as retryable so that a transient fault never wedges a group;
 * the controller still records each failure.
 */
export function isRetryableProviderError(err: unknown): boolean {
  return isTideError(err) ? isRetryable(err) : true
}

/** Whether `err` is a ThrottledError (by its code, so a second copy of tide's counts too). */
export function isThrottledError(err: unknown): err is ThrottledError {
  return isProviderError(err, 'TIDE_ERR_PROVIDER_THROTTLED')
}

/** Whether `err` is an InsufficientCapacityError (by its code). */
export function isInsufficientCapacityError(err: unknown): err is InsufficientCapacityError {
  return isProviderError(err, 'TIDE_ERR_PROVIDER_CAPACITY')
}

/** Whether `err` is an InstanceNotFoundError (by its code). */
export function isInstanceNotFoundError(err: unknown): err is InstanceNotFoundError {
  return isProviderError(err, 'TIDE_ERR_PROVIDER_NOT_FOUND')
}

/**
 * The wait a throttled error asks for, ms: its `retryAfterMs` when it carries a finite
 * number ≥ 0 (read by shape, as the `is…` helpers), else undefined.
 */
export function retryAfterMsOf(err: unknown): number | undefined {
  const v = (err as { retryAfterMs?: unknown } | null | undefined)?.retryAfterMs
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined
}
