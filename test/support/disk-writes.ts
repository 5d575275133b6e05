/**
 * Whether this process's writes to files in a folder show in its /proc/<pid>/io write_bytes: not
 * on tmpfs, and only with the kernel's task I/O accounting. Tests of disk rates skip (with that
 * reason) or leave the disk out where they do not.
 */
import { closeSync, fsyncSync, openSync, rmSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { readProcIo } from '../../src/core/proc-stat.ts'

/** Writes and fsyncs 1 MiB in `dir` and says whether write_bytes grew by at least that much. */
export function diskWritesCounted(dir: string): boolean {
  const before = readProcIo(process.pid)
  if (before === undefined) return false
  const file = join(dir, 'probe')
  const fd = openSync(file, 'w')
  writeSync(fd, Buffer.alloc(1 << 20, 1))
  fsyncSync(fd)
  closeSync(fd)
  rmSync(file)
  const now = readProcIo(process.pid)
  return now !== undefined && now.writeBytes - before.writeBytes >= 1 << 20
}
