/**
 * Configuration errors: tide.yaml is read whole and every problem is reported at once,
 * each as `file:line:col: field.path: message`, so that one run of `tide validate` shows
 * the whole list instead of one error per edit-and-retry.
 */
import { TideError } from '../errors.ts'

/** One problem in a config file. `line`/`col` are 1-based; absent when the problem has no place (an unreadable file). */
export interface ConfigIssue {
  readonly file: string
  readonly line?: number
  readonly col?: number
  /** The field, as `metrics[0].target.valueMs`; empty for a whole document or file. */
  readonly path: string
  readonly message: string
}

/** `file:line:col: path: message`, leaving out the parts an issue lacks. */
export function formatConfigIssue(issue: ConfigIssue): string {
  const where = issue.line === undefined ? issue.file : `${issue.file}:${issue.line}:${issue.col ?? 1}`
  return issue.path === '' ? `${where}: ${issue.message}` : `${where}: ${issue.path}: ${issue.message}`
}

/** Issues a ConfigError's message lists; the rest are counted (a hostile file may have 100 000). */
export const MAX_LISTED_ISSUES = 100

/**
 * tide.yaml is not valid (code TIDE_ERR_CONFIG). `issues` holds every problem found,
 * sorted by file position; the message lists them one per line, the first MAX_LISTED_ISSUES of them.
 */
export class ConfigError extends TideError {
  readonly issues: readonly ConfigIssue[]

  constructor(issues: readonly ConfigIssue[], options?: ErrorOptions) {
    const sorted = [...issues].sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0))
    const file = sorted[0]?.file ?? 'config'
    const head = sorted.length === 1 ? `1 error in ${file}` : `${sorted.length} errors in ${file}`
    const shown = sorted.slice(0, MAX_LISTED_ISSUES).map((i) => `  ${formatConfigIssue(i)}`)
    if (sorted.length > MAX_LISTED_ISSUES) shown.push(`  … and ${sorted.length - MAX_LISTED_ISSUES} more (every issue is in ConfigError.issues)`)
    super('TIDE_ERR_CONFIG', `${head}:\n${shown.join('\n')}`, options)
    this.issues = sorted
  }
}
