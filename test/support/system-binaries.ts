/**
 * Optional system programs some tests drive for real (HAProxy, nginx, …). `npm test` must pass
 * on a machine with only Node and the repository, so a test that needs one skips, with the
 * reason and the Debian package that provides it, when the program is absent:
 *
 *   test('…', { skip: missingBinary('haproxy') }, async () => { … })
 *
 * `.ci/run` installs them (scripts/install-system-deps.sh), so nothing is skipped there.
 * Each program is looked up once per test process, on the PATH the tests run with.
 */
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { findExecutable } from '../../src/core/executables.ts'

/** The optional programs, each with where to look beyond PATH and how to install it on Debian. */
const PROGRAMS = {
  haproxy: { install: 'apt-get install haproxy', extraDirs: () => [] },
  nginx: { install: 'apt-get install nginx', extraDirs: () => [] },
  wrk: { install: 'apt-get install wrk', extraDirs: () => [] },
  prometheus: { install: 'apt-get install prometheus', extraDirs: () => [] },
  // Debian keeps the server programs of each PostgreSQL version off PATH, in /usr/lib/postgresql/N/bin.
  postgres: { install: 'apt-get install postgresql', extraDirs: () => versionDirs('/usr/lib/postgresql') },
  chromium: { install: 'apt-get install chromium', extraDirs: () => [] },
  kubectl: { install: 'apt-get install kubectl (from the pkgs.k8s.io repository)', extraDirs: () => [] },
  moto_server: { install: 'pip install "moto[server]"', extraDirs: () => [] },
} as const satisfies Record<string, { install: string; extraDirs: () => string[] }>

/** A program some test may need. */
export type SystemProgram = keyof typeof PROGRAMS

const found = new Map<SystemProgram, string | undefined>()

/**
 * The absolute path of `program`: the first executable file of that name on PATH, then in its
 * usual off-PATH folders; undefined when there is none. Looked up once and remembered.
 */
export function binaryPath(program: SystemProgram): string | undefined {
  if (!found.has(program)) {
    found.set(program, findExecutable(program, process.env.PATH ?? '', PROGRAMS[program].extraDirs()))
  }
  return found.get(program)
}

/**
 * For node:test's `skip` option: false when `program` is installed, else the reason, e.g.
 * "haproxy is not installed (apt-get install haproxy)".
 */
export function missingBinary(program: SystemProgram): string | false {
  return binaryPath(program) === undefined ? `${program} is not installed (${PROGRAMS[program].install})` : false
}



/** `root/<version>/bin` for each version folder under root, newest name last; none when root is absent. */
function versionDirs(root: string): string[] {
  try {
    return readdirSync(root)
      .sort()
      .map((v) => join(root, v, 'bin'))
  } catch {
    return []
  }
}
