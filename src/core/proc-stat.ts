/**
 * Reading Linux's /proc for one process: its cpu times, start time, parent,
 * resident memory and storage I/O. The parsers are pure (they take the file's text) so that tests
 * feed them fixture text; the readers return undefined when the process is gone,
 * which is a normal event (an instance exits between two samples), never an error.
 * See proc(5) for the field numbers. In core/ because the local provider (a process's
 * identity) and metrics/ (its samples) both read it.
 */
import { readFileSync, readdirSync } from 'node:fs'
import { execFileSync } from 'node:child_process'

/** The fields of /proc/<pid>/stat that tide uses. Times are in clock ticks (see clockTicksPerSecond()). */
export interface ProcStat {
  readonly pid: number
  /** The executable's name as the kernel truncates it (15 chars); may hold spaces and parentheses. */
  readonly comm: string
  /** One letter: R running, S sleeping, D disk wait, Z zombie, X dead, T stopped, … */
  readonly state: string
  readonly ppid: number
  /** Process group id; an instance launched detached leads its own group (pgrp = pid). */
  readonly pgrp: number
  /** User and system time of all the process's threads, in clock ticks. */
  readonly utimeTicks: number
  readonly stimeTicks: number
  /** User and system time of children the process has waited for, in clock ticks. */
  readonly cutimeTicks: number
  readonly cstimeTicks: number
  readonly numThreads: number
  /**
   * When the process started, in clock ticks after boot, kept as the kernel's decimal
   * text. Together with the pid it names a process uniquely: a pid the kernel hands
   * out again belongs to a process with a later start time.
   */
  readonly startTime: string
}

/** Thrown by the parsers for text that is not what the kernel writes. A programmer or fixture error. */
export class ProcParseError extends Error {
  constructor(file: string, detail: string) {
    super(`cannot parse ${file}: ${detail}`)
    this.name = 'ProcParseError'
  }
}

/**
 * Parses the one line of /proc/<pid>/stat. The comm field (2) is in parentheses and may
 * itself hold spaces and ')' — so the fields after it are found after the LAST ')'.
 */
export function parseProcStat(text: string): ProcStat {
  const open = text.indexOf('(')
  const close = text.lastIndexOf(')')
  if (open < 0 || close < open) throw new ProcParseError('/proc/<pid>/stat', 'no (comm) field')
  const pid = Number(text.slice(0, open).trim())
  const rest = text.slice(close + 1).trim().split(/\s+/)
  // rest[0] is field 3 (state); field n is rest[n - 3].
  const field = (n: number): string => {
    const v = rest[n - 3]
    if (v === undefined) throw new ProcParseError('/proc/<pid>/stat', `field ${n} missing`)
    return v
  }
  const num = (n: number): number => {
    const v = Number(field(n))
    if (!Number.isFinite(v)) throw new ProcParseError('/proc/<pid>/stat', `field ${n} is not a number: ${field(n)}`)
    return v
  }
  if (!Number.isInteger(pid)) throw new ProcParseError('/proc/<pid>/stat', 'pid is not a number')
  return {
    pid,
    comm: text.slice(open + 1, close),
    state: field(3),
    ppid: num(4),
    pgrp: num(5),
    utimeTicks: num(14),
    stimeTicks: num(15),
    cutimeTicks: num(16),
    cstimeTicks: num(17),
    numThreads: num(20),
    startTime: String(num(22)),
  }
}

/**
 * The resident set size in KiB from /proc/<pid>/status (the `VmRSS:` line), or
 * undefined when the line is absent (kernel threads, zombies).
 */
export function parseVmRssKiB(statusText: string): number | undefined {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(statusText)
  return m?.[1] === undefined ? undefined : Number(m[1])
}

/**
 * The storage I/O counters of /proc/<pid>/io that tide uses, in bytes since the process
 * started (for a whole thread group: its live threads, its exited threads, and the
 * children it has reaped, whose counts the kernel folds into the parent as it does their
 * cpu times). `read_bytes` is what the process caused to be fetched from storage (page
 * cache hits are not counted); `write_bytes` is what it caused to be sent toward storage
 * (counted when a page of a disk-backed file is dirtied, so a file on tmpfs counts
 * nothing). The kernel's `cancelled_write_bytes` (dirty pages truncated before writeback)
 * is left out: a write counts when it is made.
 */
export interface ProcIo {
  readonly readBytes: number
  readonly writeBytes: number
}

/**
 * Parses /proc/<pid>/io (`key: value` lines; proc(5)). Throws ProcParseError when
 * `read_bytes` or `write_bytes` is absent or not a whole number; other lines are ignored.
 */
export function parseProcIo(text: string): ProcIo {
  const field = (key: 'read_bytes' | 'write_bytes', re: RegExp): number => {
    const m = re.exec(text)
    if (m?.[1] === undefined) throw new ProcParseError('/proc/<pid>/io', `no ${key} line`)
    return Number(m[1])
  }
  return { readBytes: field('read_bytes', /^read_bytes:[ \t]*(\d+)[ \t]*$/m), writeBytes: field('write_bytes', /^write_bytes:[ \t]*(\d+)[ \t]*$/m) }
}

/** Whether a process in this state has finished running: zombie (not yet reaped) or dead. */
export function isExitedState(state: string): boolean {
  return state === 'Z' || state === 'X' || state === 'x'
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    // ENOENT / ESRCH: the process is gone, which callers treat as a value, not a fault.
    return undefined
  }
}

/**
 * Reads and parses /proc/<pid>/stat; undefined when the process does not exist, or
 * when the file reads empty or truncated (a process exiting while it is read).
 */
export function readProcStat(pid: number, procRoot = '/proc'): ProcStat | undefined {
  const text = readText(`${procRoot}/${pid}/stat`)
  if (text === undefined) return undefined
  try {
    return parseProcStat(text)
  } catch (err) {
    if (err instanceof ProcParseError) return undefined
    throw err
  }
}

/** Reads the resident memory of one process in KiB; undefined when it is gone or has none. */
export function readRssKiB(pid: number, procRoot = '/proc'): number | undefined {
  const text = readText(`${procRoot}/${pid}/status`)
  return text === undefined ? undefined : parseVmRssKiB(text)
}

/**
 * Reads the storage I/O counters of one process; undefined when they cannot be read:
 * the process is gone, the kernel was built without task I/O accounting, or reading
 * is not permitted (another user's process, or a container that denies it). Unknown,
 * never 0: a caller must not take an unreadable counter for an idle disk.
 */
export function readProcIo(pid: number, procRoot = '/proc'): ProcIo | undefined {
  const text = readText(`${procRoot}/${pid}/io`)
  if (text === undefined) return undefined
  try {
    return parseProcIo(text)
  } catch (err) {
    if (err instanceof ProcParseError) return undefined
    throw err
  }
}

/**
 * Whether the process `pid` is alive and is the one that started at `startTime`
 * (so a recycled pid is never mistaken for ours). Zombies count as exited.
 */
export function isSameLiveProcess(pid: number, startTime: string, procRoot = '/proc'): boolean {
  const stat = readProcStat(pid, procRoot)
  return stat !== undefined && stat.startTime === startTime && !isExitedState(stat.state)
}

/** Whether a process with this pid runs and is no zombie (any start time: for a pid just signalled, not one recorded earlier). */
export function isRunning(pid: number, procRoot = '/proc'): boolean {
  const stat = readProcStat(pid, procRoot)
  return stat !== undefined && !isExitedState(stat.state)
}

/** The pids of every process in `procRoot` (the numeric directory names). */
export function listPids(procRoot = '/proc'): number[] {
  let names: string[]
  try {
    names = readdirSync(procRoot)
  } catch {
    return []
  }
  const pids: number[] = []
  for (const n of names) if (/^\d+$/.test(n)) pids.push(Number(n))
  return pids
}

let cachedTicks: number | undefined

/**
 * The kernel's clock ticks per second (USER_HZ, `getconf CLK_TCK`), which the cpu
 * times of /proc/<pid>/stat count in. Asked once per process; 100 — the value on
 * every mainstream Linux architecture — when getconf is unavailable.
 */
export function clockTicksPerSecond(): number {
  if (cachedTicks !== undefined) return cachedTicks
  let ticks = 100
  try {
    const out = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 2000 }).trim())
    if (Number.isInteger(out) && out > 0) ticks = out
  } catch {
    // Keep the default: getconf is part of libc-bin on Debian but may be missing in minimal images.
  }
  cachedTicks = ticks
  return ticks
}
