/**
 * Errors every provider raises (src/providers/provider.ts promises ProviderError
 * subclasses). Their codes, HTTP statuses and retryable flags are in the one registry
 * (src/errors.ts, listed in docs/errors.md). The controller asks
 * `isRetryableProviderError()` after a failed launch or terminate: a retryable failure is
 * tried again on the next tick; a non-retryable one is reported as needing a fix, and its
 * launches back off (src/controller/reconciler.ts).
 */
import { TideError, isRetryable, isTideError, isTideErrorOf, type TideErrorCode } from '../errors.ts'

/** The codes of provider errors: the registry's `TIDE_ERR_PROVIDER_*` codes. */
export type ProviderErrorCode = Extract<TideErrorCode, `TIDE_ERR_PROVIDER_${string}`>

/**
 * The base of provider errors. `retryable` (from the registry, or given for a launch
 * failure) says whether the same call may succeed later without a change of configuration
 * (a busy port, EAGAIN, a timeout) as opposed to a mistake an operator must fix (a missing
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
