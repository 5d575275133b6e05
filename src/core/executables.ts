/**
 * Finding programs the way a shell would: an executable regular file, on PATH or in given
 * folders. `tide validate` checks launch programs and haproxy with it; the tests use it to skip
 * what needs an optional system program.
 */
import { accessSync, constants, statSync } from 'node:fs'
import { delimiter, join } from 'node:path'

/** Whether `path` is a regular file this process may execute. */
export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK)
    return statSync(path).isFile()
  } catch {
    return false
  }
}

/**
 * The first executable file named `program` in the folders of `searchPath` (a PATH value), then
 * in `extraDirs`; undefined when there is none.
 */
export function findExecutable(program: string, searchPath: string, extraDirs: readonly string[] = []): string | undefined {
  const dirs = [...searchPath.split(delimiter).filter((d) => d !== ''), ...extraDirs]
  return dirs.map((d) => join(d, program)).find((p) => isExecutable(p))
}
