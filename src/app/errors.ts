/**
 * The errors of the application service and the API over it (codes TIDE_ERR_API_*, in the one
 * registry of src/errors.ts with their HTTP statuses). They live in app/ because the service
 * raises most of them (no such group, a change that conflicts) and api/ stands above it.
 */
import { TideError, isTideErrorOf, type TideErrorCode } from '../errors.ts'

/** The codes an ApiError may carry. */
export type ApiErrorCode = Extract<TideErrorCode, `TIDE_ERR_API_${string}`>

/** A request the service or the API refuses; `status` (from the registry) is what the API answers with. */
export class ApiError extends TideError {
  // eslint-disable-next-line @typescript-eslint/no-useless-constructor -- narrows the code to TIDE_ERR_API_*
  constructor(code: ApiErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options)
  }
}

/** Whether `err` is an ApiError (by its code's shape, so a second copy of tide's is recognised), optionally of one code. */
export function isApiError(err: unknown, code?: ApiErrorCode): err is ApiError {
  return isTideErrorOf(err, 'TIDE_ERR_API_', code)
}
