/**
 * Errors every provider raises (src/providers/provider.ts promises ProviderError
 * subclasses). The controller asks `isRetryableProviderError()` to decide whether to
 * try again on the next tick or to record a failure event and stop trying.
 * Codes are stable and listed in docs/errors.md.
 */
import { TideError, isTideError } from '../errors.ts'

/** The codes of provider errors. */
export const ProviderErrorCodes = {
  /** An instance could not be started: the command does not exist, cannot be executed, or a port could not be found. */
  launch: 'TIDE_ERR_PROVIDER_LAUNCH',
  /** The group cannot run on this provider as configured (for `local`: no `launch.command`). */
  config: 'TIDE_ERR_PROVIDER_CONFIG',
  /** The provider's record of its instances cannot be read or written (corrupt or unwritable file). */
  registry: 'TIDE_ERR_PROVIDER_REGISTRY',
} as const

/** One of ProviderErrorCodes. */
export type ProviderErrorCode = (typeof ProviderErrorCodes)[keyof typeof ProviderErrorCodes]

/**
 * The base of provider errors. `retryable` says whether the same call may succeed
 * later without a change of configuration (a busy port, EAGAIN, a timeout) as opposed
 * to a mistake an operator must fix (a missing executable).
 */
export class ProviderError extends TideError {
  /** Whether trying the same call again later may succeed. */
  readonly retryable: boolean
  /** The provider's name ('local', 'kubernetes', …). */
  readonly provider: string

  constructor(code: ProviderErrorCode, provider: string, message: string, retryable: boolean, options?: ErrorOptions) {
    super(code, message, options)
    this.provider = provider
    this.retryable = retryable
  }
}

/** An instance could not be launched; the message names the group and the command's argv[0]. */
export class LaunchFailedError extends ProviderError {
  constructor(provider: string, message: string, retryable: boolean, options?: ErrorOptions) {
    super(ProviderErrorCodes.launch, provider, message, retryable, options)
  }
}

/** The group's configuration does not suit the provider; never retryable. */
export class ProviderConfigError extends ProviderError {
  constructor(provider: string, message: string, options?: ErrorOptions) {
    super(ProviderErrorCodes.config, provider, message, false, options)
  }
}

/** The instance registry cannot be read or written; the message names the file. Retryable (a full disk may clear). */
export class RegistryError extends ProviderError {
  constructor(provider: string, message: string, options?: ErrorOptions) {
    super(ProviderErrorCodes.registry, provider, message, true, options)
  }
}

/** Whether `err` is a provider error, of any code or of `code`. */
export function isProviderError(err: unknown, code?: ProviderErrorCode): err is ProviderError {
  return err instanceof ProviderError && isTideError(err, code)
}

/**
 * Whether the controller should retry the call that threw `err`. Errors that are not
 * provider errors (bugs, unexpected system errors) are treated as retryable so that a
 * transient fault never wedges a group; the controller still records each failure.
 */
export function isRetryableProviderError(err: unknown): boolean {
  return err instanceof ProviderError ? err.retryable : true
}
