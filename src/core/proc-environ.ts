/**
 * Finding processes by their environment: /proc/<pid>/environ holds the environment a process
 * was started (or last exec'd) with, NUL-separated, readable for processes of the same user.
 * The local provider uses it to find, after a crash, an instance it spawned but had not yet
 * recorded (src/providers/local/local-provider.ts).
 */
import { readFileSync } from 'node:fs'
import { listPids } from './proc-stat.ts'

/** A process whose environment matched, with that environment. */
export interface ProcessWithEnv {
  readonly pid: number
  readonly env: Readonly<Record<string, string>>
}

/** Parses the NUL-separated `NAME=value` entries of /proc/<pid>/environ; later duplicates win. */
export function parseEnviron(text: string): Record<string, string> {
  const env: Record<string, string> = {}
  for (const entry of text.split('\0')) {
    const eq = entry.indexOf('=')
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1)
  }
  return env
}

/**
 * The live processes whose environment has every variable of `match` with exactly that value.
 * Processes that end meanwhile, or whose environment is not readable (another user's), are
 * skipped. One pass over /proc: call it rarely (at adoption), not every tick.
 */
export function processesWithEnv(match: Readonly<Record<string, string>>, procRoot = '/proc'): ProcessWithEnv[] {
  const wanted = Object.entries(match)
  // Every matching environ holds the first `NAME=value` as text: a cheap filter before parsing.
  const [first] = wanted
  const needle = first === undefined ? '' : `${first[0]}=${first[1]}\0`
  const out: ProcessWithEnv[] = []
  for (const pid of listPids(procRoot)) {
    let text: string
    try {
      text = readFileSync(`${procRoot}/${String(pid)}/environ`, 'latin1')
    } catch {
      continue
    }
    if (!`${text}\0`.includes(needle)) continue
    const env = parseEnviron(text)
    if (wanted.every(([k, v]) => env[k] === v)) out.push({ pid, env })
  }
  return out
}
