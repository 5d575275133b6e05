/**
 * The last lines of an instance's log file, for the event that says why it failed to start
 * (a stack trace, "Cannot find module …"). Reads at most the file's last `maxBytes`, so a
 * huge log costs no more than a small one.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs'

/** The first line of an error report: "TypeError: …", "Error [ERR_X]: …", "SyntaxError: …". */
const ERROR_LINE = /^\s*(?:Uncaught )?(?:[A-Z]\w*)?(?:Error|Exception)\b/

/** Longest line kept, in characters; longer ones are cut with "…". */
const MAX_LINE_CHARS = 240

/**
 * Up to `lines` last non-empty lines of the file at `path`, joined with "\n", each cut to 240
 * characters. When an error's first line ("TypeError: …") lies just above them, it replaces
 * the first two, followed by "…", so that a long stack trace still shows what went wrong; '' when the file is empty, missing or unreadable (a log is a courtesy, never an
 * error). `maxBytes` (8 KiB by default) bounds what is read from the end of the file.
 */
export function logTail(path: string, lines = 10, maxBytes = 8192): string {
  let fd: number | undefined
  try {
    fd = openSync(path, 'r')
    const size = fstatSync(fd).size
    const length = Math.min(size, maxBytes)
    const buf = Buffer.alloc(length)
    readSync(fd, buf, 0, length, size - length)
    const all = buf.toString('utf8').split(/\r?\n/)
    // Reading from the middle of the file: its first line may be cut, so drop it.
    if (length < size) all.shift()
    const kept = all.filter((l) => l.trim() !== '')
    const tail = kept.slice(-lines)
    // A stack trace is longer than the tail: keep the error's own line above it ("Error [ERR_MODULE_NOT_FOUND]: Cannot find …").
    const headline = kept.slice(0, kept.length - tail.length).findLast((l) => ERROR_LINE.test(l))
    if (headline !== undefined) tail.splice(0, 2, headline, '…')
    return tail.map((l) => (l.length > MAX_LINE_CHARS ? `${l.slice(0, MAX_LINE_CHARS - 1)}…` : l)).join('\n')
  } catch {
    return ''
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}
