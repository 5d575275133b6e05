/** Test helper: a fake /proc directory with stat, status and io files written from plain values. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** The fields a fixture process needs. */
export interface FakeProc {
  readonly pid: number
  readonly ppid: number
  readonly comm?: string
  readonly state?: string
  readonly utime: number
  readonly stime: number
  readonly cutime?: number
  readonly cstime?: number
  readonly startTime: number
  readonly rssKiB?: number
  readonly threads?: number
  /** /proc/<pid>/io's read_bytes and write_bytes; absent: no io file; 'unreadable': an io that cannot be read. */
  readonly io?: { readonly readBytes: number; readonly writeBytes: number } | 'unreadable'
}

/** The line the kernel writes to /proc/<pid>/stat for `p` (52 fields, unused ones 0). */
export function statLine(p: FakeProc): string {
  const f: (string | number)[] = [p.pid, `(${p.comm ?? 'node'})`, p.state ?? 'S', p.ppid, p.pid, p.pid, 0, -1, 4194304, 10, 0, 0, 0]
  f.push(p.utime, p.stime, p.cutime ?? 0, p.cstime ?? 0, 20, 0, p.threads ?? 1, 0, p.startTime, 123456789, 900)
  while (f.length < 52) f.push(0)
  return f.join(' ') + '\n'
}

/** /proc/<pid>/status text with (or, for kernel threads, without) a VmRSS line. */
export function statusText(p: FakeProc): string {
  const lines = [`Name:\t${p.comm ?? 'node'}`, `State:\t${p.state ?? 'S'} (sleeping)`, `Pid:\t${p.pid}`, `PPid:\t${p.ppid}`]
  if (p.rssKiB !== undefined) lines.push(`VmRSS:\t  ${p.rssKiB} kB`, 'RssAnon:\t   1000 kB')
  lines.push(`Threads:\t${p.threads ?? 1}`)
  return lines.join('\n') + '\n'
}

/** /proc/<pid>/io text as the kernel writes it, with the counters tide does not read set to plausible values. */
export function ioText(io: { readonly readBytes: number; readonly writeBytes: number }): string {
  return `rchar: ${io.readBytes + 4096}\nwchar: ${io.writeBytes + 17}\nsyscr: 12\nsyscw: 3\nread_bytes: ${io.readBytes}\nwrite_bytes: ${io.writeBytes}\ncancelled_write_bytes: 0\n`
}

/** A temporary /proc; write() replaces a process's files, remove() makes it exit. */
export class FakeProcRoot {
  readonly root = mkdtempSync(join(tmpdir(), 'tide-proc-'))
  write(p: FakeProc): void {
    mkdirSync(join(this.root, String(p.pid)), { recursive: true })
    writeFileSync(join(this.root, String(p.pid), 'stat'), statLine(p))
    writeFileSync(join(this.root, String(p.pid), 'status'), statusText(p))
    const io = join(this.root, String(p.pid), 'io')
    rmSync(io, { recursive: true, force: true })
    // A directory where the file should be fails every read (EISDIR), even for root, as a denied io file does.
    if (p.io === 'unreadable') mkdirSync(io)
    else if (p.io !== undefined) writeFileSync(io, ioText(p.io))
  }
  remove(pid: number): void {
    rmSync(join(this.root, String(pid)), { recursive: true, force: true })
  }
  cleanup(): void {
    rmSync(this.root, { recursive: true, force: true })
  }
}
