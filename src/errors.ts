/**
 * tide's error base class and its stable codes (as fastify's `FST_ERR_*` and undici's
 * `UND_ERR_*`). A code never changes meaning once released, so scripts and the API can
 * match on it; the message is for people and may be reworded. Every code is listed in
 * docs/errors.md, and test/errors.test.ts fails when one is missing there.
 */

/**
 * The codes this module knows. Other parts may define more codes of the same
 * `TIDE_ERR_*` shape next to their error classes; each still goes into docs/errors.md.
 */
export const TideErrorCodes = {
  /** tide.yaml is not valid: syntax, schema or a cross-field rule. Carries every issue found. */
  config: 'TIDE_ERR_CONFIG',
  /** A traffic trace CSV is malformed. */
  trace: 'TIDE_ERR_TRACE',
  /** An access log line cannot be parsed (and --skip-bad was not given). */
  accessLog: 'TIDE_ERR_ACCESS_LOG',
  /** A Kubernetes HorizontalPodAutoscaler manifest cannot be converted at all. */
  hpaImport: 'TIDE_ERR_HPA_IMPORT',
  /** The command line is wrong: unknown command or flag, bad flag value. Exit status 2. */
  usage: 'TIDE_ERR_USAGE',
  /** A file tide was told to read or write cannot be read or written. */
  file: 'TIDE_ERR_FILE',
} as const

/** A stable error code: `TIDE_ERR_` followed by an upper-case name. */
export type TideErrorCode = `TIDE_ERR_${string}`

/**
 * The base of every error tide raises on purpose. The CLI prints a TideError as
 * `tide: <message>` without a stack (unless TIDE_DEBUG=1); anything else is a bug and
 * is printed with its stack. `cause` is always kept so that the root error is not lost.
 */
export class TideError extends Error {
  /** The stable code; see docs/errors.md. */
  readonly code: TideErrorCode

  constructor(code: TideErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}

/**
 * Whether `err` is a TideError, optionally with the given code. Checks the shape
 * rather than only `instanceof`, so an error from a second copy of this module (two
 * installed versions of tide) is still recognised.
 */
export function isTideError(err: unknown, code?: TideErrorCode): err is TideError {
  if (err instanceof TideError) return code === undefined || err.code === code
  if (!(err instanceof Error)) return false
  const c = (err as { code?: unknown }).code
  return typeof c === 'string' && c.startsWith('TIDE_ERR_') && (code === undefined || c === code)
}

/** A file cannot be read or written; the message names the file and the system's reason (ENOENT, EACCES, …). */
export class FileError extends TideError {
  /** The path as the user gave it. */
  readonly path: string

  constructor(path: string, action: 'read' | 'write', cause: unknown) {
    const reason = cause instanceof Error ? ((cause as NodeJS.ErrnoException).code ?? cause.message) : String(cause)
    super(TideErrorCodes.file, `cannot ${action} ${path}: ${reason}`, { cause })
    this.path = path
  }
}

/**
 * The candidate closest to `word` for a "did you mean" hint: within edit distance 2
 * (1 for words of up to 3 letters, so that short words do not match everything), case
 * ignored. Undefined when nothing is that close.
 */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined
  let bestDistance = word.length <= 3 ? 2 : 3
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase())
    if (d < bestDistance) {
      best = c
      bestDistance = d
    }
  }
  return best
}

/** Levenshtein distance: insertions, deletions and substitutions each cost 1. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1)
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution))
    }
    previous = current
  }
  return previous[b.length] ?? 0
}
